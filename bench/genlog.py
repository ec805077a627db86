"""Deterministic Venus logs for the benchmarks: same arguments, same bytes (the seed is fixed).

    python bench/genlog.py OUT [LINES] [--mix formats|trace]

``formats`` mixes every format of the fixtures about evenly (the index benchmark);
``trace`` is what a traced guest or a VKR_DEBUG host floods a log with: call traces
of many functions, a few percent of them the fence, queue and ring lines the
model follows (the live benchmark).
"""

from __future__ import annotations

import random
import sys

TEMPLATES = (
    (30, "[VKR] vkQueueSubmit: queue=0x{p:x} submitCount=1 fence=0x{w:x} ret=0"),
    (10, "[VKR] vkGetFenceStatus: ret={r}"),
    (6, "[VKR] CreateFence: calling MoltenVK with device=0x{p:x}"),
    (6, "[VKR] CreateFence: MoltenVK returned 0, fence=0x{w:x} (0x{w:x})"),
    (8, "MESA-VIRTIO: debug: stuck in ring seqno wait with iter at {i}"),
    (4, "MESA-VIRTIO: debug: vn_QueueSubmit: VK_SUCCESS"),
    (4, "MESA-VIRTIO: debug: wire format version 1"),
    (6, "virgl_render_server[{pid}]: vkr: vkQueueSubmit: ring seqno({s}) unable to reach wait seqno({s2})"),
    (4, "virgl_render_server[{pid}]: vkr: Validation Error: [ VUID-vkQueueSubmit-fence-00063 ] Object 0: "
        "handle = 0x{w:x}, type = VK_OBJECT_TYPE_FENCE; | MessageID = 0xba01bbb4 | fence is already in use"),
    (4, "vtest_resource_create_blob called virgl_renderer_resource_export_blob which failed (-22)"),
    (3, "client: VTEST_CLIENT_ERROR_COMMAND_DISPATCH"),
    (3, "vtest_client_dispatch_commands: client context created."),
    (4, "[mvk-info] Created VkFence 0x{p:x} on queue family {f}"),
    (2, "[mvk-warn] vkGetFenceStatus(): fence 0x{p:x} not signaled after {i} polls"),
    (3, "[ {k:5d}.{u:06d}] [drm:virtio_gpu_dequeue_ctrl_func] *ERROR* response 0x1203 (command 0x10c)"),
    (2, "6. Submit: 0  (VK_SUCCESS)"),
    (2, "7. Status: 1  (VK_NOT_READY)"),
    (1, "\tperf = 0x10"),
    (1, "/usr/libexec/virgl_render_server: /lib/x86_64-linux-gnu/libc.so.6: weak version `GLIBC_2.38' not "
        "found (required by /usr/libexec/virgl_render_server)"),
    (7, "qemu-system-aarch64: virtio-gpu: frame {i} presented in {u} us"),
)


TRACE = (
    (40, "[mvk-trace] vk{fn}(commandBuffer=0x{cb:x})"),
    (30, "[VKR] vk{fn}: commandBuffer=0x{cb:x} ret=0"),
    (14, "qemu-system-aarch64: virtio-gpu: frame {i} presented in {u} us"),
    (8, "[mvk-debug] vkCmdPipelineBarrier: image 0x{p:x} layout {f}"),
    (3, "[VKR] vkQueueSubmit: queue=0x{p:x} submitCount=1 fence=0x{w:x} ret=0"),
    (2, "[VKR] vkGetFenceStatus: ret={r}"),
    (1, "MESA-VIRTIO: debug: stuck in ring seqno wait with iter at {i}"),
    (1, "virgl_render_server[{pid}]: vkr: vkQueueSubmit: ring seqno({s}) unable to reach wait seqno({s2})"),
    (1, "[VKR] CreateFence: MoltenVK returned 0, fence=0x{w:x} (0x{w:x})"),
)
FUNCTIONS = ("CmdDraw", "CmdDrawIndexed", "CmdBindPipeline", "CmdBindDescriptorSets", "CmdCopyBuffer",
             "CmdBeginRenderPass", "CmdEndRenderPass", "CmdPushConstants", "CmdSetViewport", "CmdDispatch")


def lines(count: int, seed: int = 20261125, mix: str = "formats"):
    rng = random.Random(seed)
    table = TEMPLATES if mix == "formats" else TRACE
    weights = [w for w, _ in table]
    formats = [t for _, t in table]
    for n in range(count):
        template = rng.choices(formats, weights)[0]
        wid = rng.randrange(1, 5000)
        yield template.format(
            p=0x55A000000000 + rng.randrange(1 << 28) * 16, w=(wid << 40) | wid, r=rng.choice((0, 1)),
            i=4096 * rng.randrange(1, 16), pid=1000 + n % 7, s=rng.randrange(1 << 31), s2=rng.randrange(1 << 31),
            f=rng.randrange(4), k=n // 1000, u=rng.randrange(1_000_000), fn=rng.choice(FUNCTIONS),
            cb=0x55A000100000 + 0x400 * rng.randrange(64),
        )


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--mix")]
    mix = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--mix=")), "formats")
    count = int(args[1]) if len(args) > 1 else 2_000_000
    with open(args[0], "w", encoding="utf-8") as f:
        for line in lines(count, mix=mix):
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
