"""The memory and communication hierarchy of a GPU cluster, as bandwidth figures (no torch needed).

Each level reaches further and is slower than the one before it (often ten times): on-chip
SRAM inside one SM, HBM on one GPU, NVLink between GPUs of one node (all-to-all through NVSwitch),
PCIe to the host, InfiniBand or Ethernet between nodes. The figures are for an 8-GPU H100 SXM node
(HGX/DGX H100) and are vendor datasheet numbers, per GPU and per direction, except where `note`
says how one was derived; real collectives reach perhaps 70-90% of a link's figure (nccl-tests
measures that).

Left out: latency per level (microseconds for NVLink, more across the network), topology details
(rails, fat trees, NVL72 racks) and anything measured here; `collectives.time_collectives` measures.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmcourse.accounting.hardware import GPUS

__all__ = ["Link", "LINKS", "link"]


@dataclass(frozen=True)
class Link:
    level: str
    reach: str  # who can talk over it
    example: str
    bandwidth: float  # bytes/s, per direction unless the note says otherwise
    note: str = ""


LINKS: tuple[Link, ...] = (
    Link("registers / shared memory", "threads of one SM", "H100 SXM, 132 SMs", 132 * 128 * 1.98e9,
         "derived: 128 B/clock per SM x 132 SMs x 1.98 GHz boost, aggregate over the chip"),
    Link("HBM", "one GPU", "H100 SXM, HBM3", GPUS["H100-80GB"].bandwidth,
         "datasheet 3.35 TB/s, reads and writes together"),
    Link("NVLink", "GPUs in a node", "NVLink 4, 18 links per H100", 450e9,
         "datasheet 900 GB/s bidirectional per GPU"),
    Link("NVSwitch", "all 8 GPUs of a node, any pair", "HGX H100, 4 NVSwitch chips", 450e9,
         "every GPU gets its full NVLink rate to any other at once; the NVLink Switch System extends "
         "this to 256 GPUs"),
    Link("PCIe", "GPU <-> CPU, NIC", "PCIe Gen5 x16", 64e9, "datasheet 128 GB/s bidirectional"),
    Link("InfiniBand", "nodes", "NDR ConnectX-7, one per GPU", 50e9,
         "400 Gb/s = 50 GB/s per NIC; a DGX H100 has 8, so 400 GB/s per node"),
    Link("Ethernet", "nodes (commodity)", "100 GbE, one port", 12.5e9, "100 Gb/s = 12.5 GB/s per port"),
)


def link(level: str) -> Link:
    """The `Link` whose level is `level`, with an error listing the known levels."""
    for entry in LINKS:
        if entry.level == level:
            return entry
    raise ValueError(f"link: level={level!r}; expected one of {[entry.level for entry in LINKS]}")
