package dev.fencelab.coordinator.scenario;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** The report's SVG drawings parsed as XML, as a browser would read them, for the plot tests. */
final class Svg {
  private Svg() {}

  static Document parse(String svg) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
  }

  /** The {@code tag} elements whose class starts with {@code cssClass} ("" for all). */
  static List<Element> elements(String svg, String tag, String cssClass) throws Exception {
    NodeList nodes = parse(svg).getElementsByTagName(tag);
    List<Element> found = new ArrayList<>();
    for (int i = 0; i < nodes.getLength(); i++) {
      Element e = (Element) nodes.item(i);
      if (e.getAttribute("class").startsWith(cssClass)) {
        found.add(e);
      }
    }
    return found;
  }
}
