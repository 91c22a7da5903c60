package dev.fencelab.node.wire;

import dev.fencelab.node.driver.DriverProtocol;
import dev.fencelab.node.p2p.FabricProtocol;
import dev.fencelab.protocol.device.v1.DeviceV1;

/**
 * The codecs of the run's PCIe fabric ({@code FabricProtocol}: transfer begin, end, cancel, done) and of a
 * driver's place in it; registered into {@link NodeSerializer}. Manifests: {@code D.Fabric*}, {@code D.UsePcie},
 * {@code D.HoldsDevicePrivate}.
 */
final class FabricCodecs {
  private final NodeSerializer s;

  FabricCodecs(NodeSerializer serializer) {
    this.s = serializer;
  }

  void register() {
    s.codec(DriverProtocol.UsePcie.class, "D.UsePcie",
        m -> {
          DeviceV1.UsePcie.Builder b = DeviceV1.UsePcie.newBuilder().setEndpoint(m.endpoint()).setPcie(m.pcie()).addAllDevices(m.devices());
          if (m.fabric() != null) {
            b.setFabric(s.refOf(m.fabric()));
          }
          return b.build();
        },
        DeviceV1.UsePcie::parseFrom,
        p -> new DriverProtocol.UsePcie(p.getEndpoint(), p.getPcie(), p.getDevicesList(), p.getFabric().isEmpty() ? null : s.req(p.getFabric(),
            "UsePcie.fabric")));
    s.codec(FabricProtocol.Begin.class, "D.FabricBegin",
        m -> DeviceV1.FabricBegin.newBuilder().setId(m.id()).setSrc(m.src()).setSrcBounce(m.srcBounce()).setEngine(m.engine()).setDst(m.dst())
            .setDstBounce(m.dstBounce()).setBytes(m.bytes()).setModelStart(m.modelStart()).build(),
        DeviceV1.FabricBegin::parseFrom,
        p -> new FabricProtocol.Begin(p.getId(), p.getSrc(), p.getSrcBounce(), p.getEngine(), p.getDst(), p.getDstBounce(), p.getBytes(),
            p.getModelStart()));
    s.codec(FabricProtocol.End.class, "D.FabricEnd",
        m -> DeviceV1.FabricEnd.newBuilder().setId(m.id()).setReplyTo(s.refOf(m.replyTo())).build(),
        DeviceV1.FabricEnd::parseFrom,
        p -> new FabricProtocol.End(p.getId(), s.req(p.getReplyTo(), "FabricEnd.reply_to")));
    s.codec(DriverProtocol.HoldsDevicePrivate.class, "D.HoldsDevicePrivate",
        m -> DeviceV1.HoldsDevicePrivate.newBuilder().setMm(s.refOf(m.mm())).build(),
        DeviceV1.HoldsDevicePrivate::parseFrom,
        p -> new DriverProtocol.HoldsDevicePrivate(s.req(p.getMm(), "HoldsDevicePrivate.mm")));
    s.codec(FabricProtocol.Cancel.class, "D.FabricCancel",
        m -> DeviceV1.FabricCancel.newBuilder().setId(m.id()).build(),
        DeviceV1.FabricCancel::parseFrom,
        p -> new FabricProtocol.Cancel(p.getId()));
    s.codec(FabricProtocol.Done.class, "D.FabricDone",
        m -> DeviceV1.FabricDone.newBuilder().setId(m.id()).setModelEnd(m.modelEnd()).setKind(m.kind()).setAloneNanos(m.aloneNanos())
            .setPath(m.path()).build(),
        DeviceV1.FabricDone::parseFrom,
        p -> new FabricProtocol.Done(p.getId(), p.getModelEnd(), p.getKind(), p.getAloneNanos(), p.getPath()));
  }
}
