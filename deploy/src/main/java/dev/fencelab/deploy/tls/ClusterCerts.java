package dev.fencelab.deploy.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A cluster's certificates for mutual-TLS Artery: a certificate authority of its own, and per member a PKCS#12
 * keystore holding the member's key and its certificate signed by that authority. Every member trusts exactly that
 * authority ({@code trust.p12}), so a member with a certificate of another cluster — or none — cannot open a
 * connection to any member. Keys are EC P-256; the stores share one random password, kept in {@code password}
 * (mode 0600, as the CA's store). Making more members later reuses the directory's authority.
 *
 * <p>Files: {@code ca.p12} (the authority's key: keep it off the members), {@code ca.pem}, {@code trust.p12},
 * {@code <member>.p12}, {@code password}.
 */
public final class ClusterCerts {
  public static final String TRUST = "trust.p12";
  public static final String PASSWORD = "password";
  private static final String CA = "ca.p12";
  /** Member names become file names: letters, digits, '.', '_', '-'. */
  public static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

  private final Path dir;
  private final char[] password;
  private final PrivateKey caKey;
  private final X509Certificate caCert;

  private ClusterCerts(Path dir, char[] password, PrivateKey caKey, X509Certificate caCert) {
    this.dir = dir;
    this.password = password;
    this.caKey = caKey;
    this.caCert = caCert;
  }

  /** The authority of {@code dir}, made there first (with its password and trust store) if the directory has none. */
  public static ClusterCerts open(Path dir, Duration validity) throws IOException, GeneralSecurityException {
    Files.createDirectories(dir);
    Path ca = dir.resolve(CA);
    if (Files.exists(ca)) {
      char[] password = readPassword(dir);
      KeyStore store = load(ca, password);
      return new ClusterCerts(dir, password, (PrivateKey) store.getKey("ca", password), (X509Certificate) store.getCertificate("ca"));
    }
    char[] password = newPassword();
    writePrivate(dir.resolve(PASSWORD), new String(password).getBytes(StandardCharsets.US_ASCII));
    KeyPair keys = ecKeys();
    String id = Long.toHexString(new SecureRandom().nextLong());
    X500Name name = new X500Name("CN=fencelab cluster CA " + id);
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(300)),
        Date.from(now.plus(validity)), name, keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    X509Certificate cert = sign(b, keys.getPrivate());
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("ca", keys.getPrivate(), password, new Certificate[] {cert});
    save(store, ca, password, true);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", cert);
    save(trust, dir.resolve(TRUST), password, false);
    Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded()) + "\n-----END CERTIFICATE-----\n");
    return new ClusterCerts(dir, password, keys.getPrivate(), cert);
  }

  /** Makes (or remakes) {@code <member>.p12}: a new key and a certificate for CN={@code member} from this authority. */
  public Path member(String member, Duration validity) throws IOException, GeneralSecurityException {
    if (!member.matches(NAME)) {
      throw new IllegalArgumentException("'" + member + "' is not a member name (letters, digits, '.', '_', '-')");
    }
    KeyPair keys = ecKeys();
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, serial(), Date.from(now.minusSeconds(300)),
        Date.from(now.plus(validity)), new X500Name("CN=" + member), keys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth,
        KeyPurposeId.id_kp_clientAuth}));
    X509Certificate cert = sign(b, caKey);
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry(member, keys.getPrivate(), password, new Certificate[] {cert, caCert});
    Path file = dir.resolve(member + ".p12");
    save(store, file, password, true);
    return file;
  }

  /** The stores' password of a certificates directory. */
  public static char[] readPassword(Path dir) throws IOException {
    Path file = dir.resolve(PASSWORD);
    if (!Files.isReadable(file)) {
      throw new IOException("no " + PASSWORD + " file in " + dir + " (make the directory with: fencelab certs --out " + dir + ")");
    }
    return Files.readString(file, StandardCharsets.US_ASCII).strip().toCharArray();
  }

  /** The member names that have a keystore in {@code dir}. */
  public static List<String> members(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".p12") && !n.equals(CA) && !n.equals(TRUST))
          .map(n -> n.substring(0, n.length() - 4)).sorted().toList();
    }
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, PrivateKey by) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(by)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign: " + e.getMessage(), e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE);
  }

  private static char[] newPassword() {
    byte[] raw = new byte[18];
    new SecureRandom().nextBytes(raw);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw).toCharArray();
  }

  private static KeyStore load(Path file, char[] password) throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(file)) {
      store.load(in, password);
    }
    return store;
  }

  private static void save(KeyStore store, Path file, char[] password, boolean secret) throws IOException, GeneralSecurityException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    store.store(bytes, password);
    if (secret) {
      writePrivate(file, bytes.toByteArray());
    } else {
      Files.write(file, bytes.toByteArray());
    }
  }

  /** Writes a file only its owner can read (where the file system knows POSIX permissions). */
  private static void writePrivate(Path file, byte[] content) throws IOException {
    Files.deleteIfExists(file);
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(content);
    }
  }
}
