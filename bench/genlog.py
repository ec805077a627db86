"""Deterministic Venus logs for the benchmarks: same arguments, same bytes (the seed is fixed).

    python bench/genlog.py OUT [LINES] [--mix formats|trace|real]

``formats`` mixes every format of the fixtures about evenly (the index benchmark);
``trace`` is what a traced guest or a VKR_DEBUG host floods a log with: call traces
of many functions, a few percent of them the fence, queue and ring lines the
model follows (the live benchmark); ``real`` is the field's families in the
envelopes real logs carry (journald, stamps, dmesg, env_logger, QEMU traces, the macOS log).
"""

from __future__ import annotations

import argparse
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
# The field's families in the envelopes real logs carry (VENUS_FACTS.md, "Real logs from real setups"), in
# about the proportions of real logs: some 16% of the lines are ones the model follows (the real fixtures
# under tests/data: 17% of the excerpts users pasted, which keep the relevant part; 12-19% of the QEMU
# lab's whole serial console); the rest is what surrounds them (QEMU trace events, boot and init lines,
# the desktop's journal, libkrun's and virglrenderer's debug output).
REAL = (
    # followed by the model
    (14, "{mon} {d:2d} {hh}:{mm}:{ss} host virgl_render_server[{pid}]: vkr: vkQueueSubmit: ring seqno({s}) unable "
         "to reach wait seqno({s2})"),
    (10, "2025-02-18 {hh}:{mm}:{ss},{ms:03d}: MESA-VIRTIO: debug: stuck in fence wait with iter at {i}"),
    (10, "[{up:6d}.{us:06d}] [drm] features: +virgl +edid +resource_blob +host_visible"),
    (4, "        deviceName         = Virtio-GPU Venus (Intel(R) Graphics (RPL-S))"),
    (4, "[WARN  hvf] map_memory: host_start_addr=0x{p:x}, guest_start_addr=0x{w:x}, size=0x4000"),
    (3, "{mon} {d:2d} {hh}:{mm}:{ss} host kernel: [drm:virtio_gpu_dequeue_ctrl_func [virtio_gpu]] *ERROR* "
        "response 0x1200 (command 0x209)"),
    (3, "llama_model_load: error loading model: vk::Device::createFence: ErrorOutOfHostMemory"),
    (2, "ggml_vulkan: 0 = Virtio-GPU Venus (Apple M4 Pro) (venus) | uma: 1 | fp16: 1"),
    # around them
    (40, "{pid}@{up}.{us:06d}:virtio_gpu_cmd_ctx_submit ctx 0x2, size {u}"),
    (20, "{pid}@{up}.{us:06d}:virtio_gpu_cmd_res_back_attach res 0x{f:x}"),
    (8, "{pid}@{up}.{us:06d}:virtio_gpu_fence_ctrl fence 0x{w:x}, type 0x207"),
    (8, "{pid}@{up}.{us:06d}:virtio_gpu_fence_resp fence 0x{w:x}"),
    (8, "[{up:6d}.{us:06d}] virtio-pci 0000:00:0{f}.0: enabling device (0000 -> 0003)"),
    (20, "[{up:6d}.{us:06d}] EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none."),
    (15, "[  OK  ] Started session-{f}.scope - Session {f} of User user."),
    (30, "{mon} {d:2d} {hh}:{mm}:{ss} guest gnome-shell[{pid}]: Window manager warning: last_user_time ({k}) is "
         "greater than comparison timestamp"),
    (5, "{mon} {d:2d} {hh}:{mm}:{ss} guest weston[{pid}]: [{hh}:{mm}:{ss}.{ms:03d}] repaint done"),
    (30, "[2025-06-10T{hh}:{mm}:{ss}Z DEBUG krun_devices::virtio::gpu::virtio_gpu] mapping: host_addr=0x{p:x}, "
         "addr=0x{w:x}, size=2097152"),
    (30, "  vkr_context_add_object: {k} -> 0x{p:x}"),
    (20, "2026-01-27 {hh}:{mm}:{ss}.{us:06d}-0800 0x1a2b  Debug  0x0  {pid}  0  virgl_render_server: "
         "render_receive_request: type {f}"),
    (15, "        maxImageDimension2D                             = 16384"),
    (3, "WARNING: [Loader Message] Code 0 : Layer VK_LAYER_MESA_device_select uses API version 1.3"),
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FUNCTIONS = ("CmdDraw", "CmdDrawIndexed", "CmdBindPipeline", "CmdBindDescriptorSets", "CmdCopyBuffer",
             "CmdBeginRenderPass", "CmdEndRenderPass", "CmdPushConstants", "CmdSetViewport", "CmdDispatch")


def lines(count: int, seed: int = 20261125, mix: str = "formats"):
    rng = random.Random(seed)
    table = {"formats": TEMPLATES, "trace": TRACE, "real": REAL}[mix]
    weights = [w for w, _ in table]
    formats = [t for _, t in table]
    for n in range(count):
        template = rng.choices(formats, weights)[0]
        wid = rng.randrange(1, 5000)
        yield template.format(
            p=0x55A000000000 + rng.randrange(1 << 28) * 16, w=(wid << 40) | wid, r=rng.choice((0, 1)),
            i=4096 * rng.randrange(1, 16), pid=1000 + n % 7, s=rng.randrange(1 << 31), s2=rng.randrange(1 << 31),
            f=rng.randrange(4), k=n // 1000, u=rng.randrange(1_000_000), fn=rng.choice(FUNCTIONS),
            cb=0x55A000100000 + 0x400 * rng.randrange(64), mon=MONTHS[n // 100_000 % 12], d=1 + n // 10_000 % 28,
            hh=f"{n // 3600 % 24:02d}", mm=f"{n // 60 % 60:02d}", ss=f"{n % 60:02d}", ms=rng.randrange(1000),
            us=rng.randrange(1_000_000), up=n // 100,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description="Deterministic Venus logs for the benchmarks.")
    parser.add_argument("out", help="the file to write (replaced)")
    parser.add_argument("lines", nargs="?", type=int, default=2_000_000, help="how many lines (default 2,000,000)")
    parser.add_argument("--mix", choices=("formats", "trace", "real"), default="formats")
    args = parser.parse_args()  # (a bad option is argparse's one-line error, never a file named after it)
    with open(args.out, "w", encoding="utf-8") as f:
        for line in lines(args.lines, mix=args.mix):
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
