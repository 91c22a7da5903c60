/**
 * PCI peer-to-peer DMA (kernel-semantics §1.13, drivers/pci/p2pdma.c; §1.12 for dma-buf's peer2peer; §4 for the
 * figures): the host's PCIe fabric ({@link dev.fencelab.node.p2p.PciTopology}: host bridges, ports, switches, endpoint
 * functions, link generation and width) and the p2pdma distance rules over it ({@link dev.fencelab.node.p2p.P2pDma}) —
 * map types BUS_ADDR / THRU_HOST_BRIDGE / NOT_SUPPORTED, the walk of {@code calc_map_type_and_dist}, ACS redirect
 * falling back to the host bridge, the AMD Zen and host-bridge whitelist rules, {@code pci_p2pdma_distance_many} and
 * {@code pci_p2pmem_find_many}, cached per (provider, client) as the kernel's xarray is.
 *
 * <p>Transfers: {@link dev.fencelab.node.p2p.PcieRoutes} gives the path a DMA takes (through a switch, the root
 * complex, host memory, or a bounce) and the resources it crosses; {@link dev.fencelab.node.p2p.FluidShare} shares
 * them max-min fair in model time; {@link dev.fencelab.node.p2p.PcieFabric} is the run's one place where transfers of
 * devices on every member meet ({@link dev.fencelab.node.p2p.FabricProtocol} on the wire). The exporter's peer2peer
 * decision is made with the same distance rules for every driver ({@code DmaBufExporter.attach}), as Gunthorpe asked
 * of the 2020 P2P dma-buf series: in common p2pdma code, not per driver.
 */
package dev.fencelab.node.p2p;
