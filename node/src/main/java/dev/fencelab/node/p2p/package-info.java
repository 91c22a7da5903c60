/**
 * PCI peer-to-peer DMA (kernel-semantics §1.13, drivers/pci/p2pdma.c): the host's PCIe fabric ({@link
 * dev.fencelab.node.p2p.PciTopology}) and the p2pdma distance rules over it ({@link dev.fencelab.node.p2p.P2pDma}) —
 * map types BUS_ADDR / THRU_HOST_BRIDGE / NOT_SUPPORTED, the walk of {@code calc_map_type_and_dist}, ACS redirect
 * falling back to the host bridge, the AMD Zen and host-bridge whitelist rules, {@code pci_p2pdma_distance_many} and
 * {@code pci_p2pmem_find_many}. Pure and cached per (provider, client), as the kernel's xarray is.
 */
package dev.fencelab.node.p2p;
