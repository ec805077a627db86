"""The knowledge base: every data file loads, every signature fires on its evidence and not without it,
and keeps firing on perturbed copies of its evidence (other numbers, pids, addresses, envelopes, unrelated
lines between), falling silent when a key line is removed.

Evidence lines are copied from the real fixtures named beside them (tests/data/real-threads*, provenance in
their MANIFESTs) or, where marked synthetic, written in the exact formats of VENUS_FACTS.md."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venustui import knowledge
from venustui.diagnose import diagnose
from venustui.events import Chunk
from venustui.ingest import Ingest
from venustui.model import Model
from venustui.parse import Parser

# id -> (evidence lines, the indexes of its key lines: each one's removal must silence it)
FIRES = {
    # real-threads-extra/89 (tur#530: Termux's freedreno ICD missing libxcb-keysyms), cut
    "icd-library-unloadable": (['ERROR: [Loader Message] Code 0 : dlopen failed: library "libxcb-keysyms.so" not found: '
                                "needed by /data/data/com.termux/files/usr/lib/libvulkan_freedreno.so in namespace "
                                "(default)",
                                "ERROR: [Loader Message] Code 0 : vkCreateInstance: Found no drivers!"], [0]),
    # real-threads-extra/15 (podman#25248: an own image lists llvmpipe alone; the reference image lists Venus)
    "cpu-vulkan-only": (["karl@192 ~ % podman run --rm -it --device /dev/dri --name gpu-info quay.io/karl/gpu-test "
                         "vulkaninfo | grep \"GPU\"",
                         "\t\tGPU id = 0 (llvmpipe (LLVM 18.1.6, 128 bits))"], [1]),
    # real-threads-extra/86 (Launchpad #1924914: sway on virtio-gpu, an oops under the cursor update), cut
    "guest-driver-crashed": (["[  573.935889] Oops: 0000 [#1] PREEMPT SMP PTI",
                              "[  573.935941] RIP: 0010:dma_fence_wait_timeout+0x16/0x110",
                              "[  573.935995]  virtio_gpu_cursor_plane_update+0x1c3/0x2a0 [virtio_gpu]"], [0, 2]),
    # real-threads-extra/82 (dri-devel: a WARN_ON queueing to a reset virtqueue at shutdown), cut
    "guest-driver-warning": (["[   20.504464] WARNING: CPU: 0 PID: 568 at drivers/gpu/drm/virtio/virtgpu_vq.c:358 "
                              "virtio_gpu_queue_ctrl_sgs+0x236/0x290 [virtio_gpu]",
                              "[   20.526925]  ? virtio_gpu_queue_fenced_ctrl_buffer+0x82/0x2c0 [virtio_gpu]"], [0, 1]),
    # real-threads-extra/85 (qemu-devel: an arm64 guest's soft lockup kicking the virtio-gpu queue), cut
    "guest-stuck-in-virtio-gpu": (["[  192.311393] watchdog: BUG: soft lockup - CPU#1 stuck for 42s! [kworker/1:1:33]",
                                   "[  192.353855]  vp_notify+0x28/0x38 [virtio_pci]",
                                   "[  192.355646]  virtqueue_kick+0x3c/0x78 [virtio_ring]",
                                   "[  192.357539]  virtio_gpu_queue_ctrl_buffer_locked+0x180/0x248 [virtio_gpu]",
                                   "[  192.368912]  drm_fb_helper_dirty_work+0x178/0x1c0"], [0, 3]),
    # real-threads-extra/78 (podman#28958: krunkit aborts at load on macOS)
    "library-not-found": (["dyld[26302]: Library not loaded: /opt/homebrew/opt/libepoxy/lib/libepoxy.0.dylib",
                           "  Referenced from: <57EF7625-287B-31FA-89D3-5F3EAD00566C> /opt/homebrew/Cellar/libkrun-efi/"
                           "1.16.0/lib/libkrun-efi.1.16.0.dylib",
                           "Error: krunkit was terminated by signal: abort trap"], [0]),
    # real-threads-extra/190 (smolvm#369: a VM started without a GPU device)
    "no-drm-device": (["smolvm machine run --gpu --net --image alpine -- ls /dev/dri",
                       "ls: /dev/dri: No such file or directory"], [1]),
    "library-mismatch": (["/usr/libexec/virgl_render_server: symbol lookup error: /usr/local/lib/libvirglrenderer.so.1: "
                          "undefined symbol: virgl_renderer_init2"], [0]),  # synthetic, labelled
    "vmm-says-why-command-failed": ([" virtio_gpu_create_mapping_iov: nr_entries is too big (83886080 > 16384)"],
                                    [0]),  # real-threads-extra/50
    # upstream's spelling (virglrenderer's vkr_device_memory_export_blob; synthetic line, labelled)
    "render-server-cannot-export-memory": (["virgl_render_server[2351]: vkr: mem cannot support mappable blob"], [0]),
    # upstream's spelling (libkrun's virtio_gpu.rs; synthetic line, labelled)
    "gpu-shm-window-full": (["[2025-06-10T12:00:00Z ERROR devices::virtio::gpu::virtio_gpu] mapping DOES NOT FIT"], [0]),
    "vcpu-unexpected-exit": (["[2024-05-30T01:48:09Z ERROR vmm::linux::vstate] Unexpected exit reason on vcpu run: "
                              "SystemEvent(2, [0])"], [0]),  # real-threads-extra/51
    "hvf-16k-granularity": (["[WARN  hvf] map_memory: host_start_addr=0x102a52d00, guest_start_addr=0x50000000, size=0x4000",
                             "[ERROR hvf] map_memory: err -85377021",
                             "llama_model_load: error loading model: vk::Device::createFence: ErrorOutOfHostMemory"],
                            [1]),  # real-threads/08
    "hvf-unsupported": (["qemu-system-aarch64: Error: ret = HV_UNSUPPORTED (0xfae9400f, at ../target/arm/hvf/hvf.c:2133)"],
                        [0]),  # synthetic, in the shape of real-threads-extra/07
    "import-not-exportable": (["vkr: failed to import resource: invalid res_id 9",
                               "vkr: vkAllocateMemory resulted in CS error",
                               "vkr: ring_submit_cmd: vn_dispatch_command failed",
                               "MESA-VIRTIO: debug: vn_ring_submit abort on fatal"], [0]),  # real-threads/01
    "ring-fatal-host-decoder": (["vkr: vkQueueSubmit resulted in CS error",
                                 "MESA-VIRTIO: debug: vn_ring_submit abort on fatal"], [0, 1]),  # synthetic
    "nvidia-virglrenderer-preload": (["2. PhysDev OK Virtio-GPU Venus (NVIDIA H100 80GB HBM3)",
                                      "MESA-VIRTIO: debug: vn_CreateDevice: VK_ERROR_INITIALIZATION_FAILED"],
                                     [0, 1]),  # synthetic, the lab's shape
    "host-not-venus": (["vkcube: ../src/virtio/vulkan/vn_renderer_virtgpu.c:1402: virtgpu_init_shmem_blob_mem: "
                        "Assertion `gpu->capset.data.supports_blob_id_0' failed."], [0]),  # real-threads/12
    "no-render-server": (["Render server support was not enabled in virglrenderer",
                          "qemu: virgl could not be initialized: -1"], [0]),  # real-threads-extra/10
    "virgl-built-without-renderer": (["  DRM native context support was not enabled in virglrenderer",
                                      "  qemu: virgl could not be initialized: -1"], [0]),  # real-threads-extra/67
    "qemu-without-property": (["qemu-system-x86_64: -device virtio-gpu-gl-pci,context_init=true,blob=true: Property "
                               "'virtio-gpu-gl-pci.context_init' not found"], [0]),  # real-threads-extra/11
    "wrong-icd": (["WARNING: [Loader Message] Code 0 : terminator_CreateInstance: Failed to CreateInstance in ICD 1.  "
                   "Skipping ICD."], [0]),  # real-threads/01
    "kvm-efault-blob": (["[2026-09-01T10:00:00Z ERROR krun_vmm::linux::vstate] Failure during vcpu run: Bad address "
                         "(os error 14)"], [0]),  # synthetic, the shape of real-threads-extra/01
    "unmap-blob-fails": (["[   54.215312] [drm:virtio_gpu_dequeue_ctrl_func [virtio_gpu]] *ERROR* response 0x1200 "
                          "(command 0x209)"], [0]),  # real-threads-extra/02
    "map-blob-fails": (["[drm:virtio_gpu_dequeue_ctrl_func [virtio_gpu]] *ERROR* response 0x1200 (command 0x208)",
                        "[ERROR:vm_control/src/lib.rs:914] register_memory:SystemCallFailed: Permission denied "
                        "(os error 13)"], [0]),  # real-threads-extra/23
    "virtio-gpu-command-error": (["[  407.524408] [drm:virtio_gpu_dequeue_ctrl_func [virtio_gpu]] *ERROR* response "
                                  "0x1200 (command 0x207)"], [0]),  # real-threads-extra/20
    "rutabaga-init-failed": (["thread 'gpu worker' panicked at src/devices/src/virtio/gpu/virtio_gpu.rs:254:14:",
                              "Rutabaga initialization failed!: ComponentError(-19)"], [1]),  # real-threads-extra/21
    "fence-waits-host-answers": (["MESA-VIRTIO: debug: stuck in fence wait with iter at 1024",
                                  "4321@1700000000.100000:virtio_gpu_fence_ctrl fence 0x51, type 0x207",
                                  "4321@1700000000.100100:virtio_gpu_fence_resp fence 0x51"], [0, 2]),  # synthetic
    "instance-out-of-host-memory": (["ERROR at ./vulkaninfo/./vulkaninfo.h:458:vkCreateInstance failed with "
                                     "ERROR_OUT_OF_HOST_MEMORY"], [0]),  # real-threads-extra/05
    "device-initialization-failed": (["MESA-VIRTIO: debug: vn_CreateDevice: VK_ERROR_INITIALIZATION_FAILED"], [0]),
    "blob-needs-udmabuf": (["error: internal error: qemu unexpectedly closed the monitor: 2023-07-18T02:33:57.083178Z "
                            "qemu-kvm: -device {\"driver\":\"virtio-vga\",\"blob\":true}: cannot enable blob "
                            "resources without udmabuf"], [0]),  # real-threads-extra/36
    "render-server-rejects-requests": (["Jan 20 15:19:34  virgl_render_server[54635] <Debug>: invalid request size "
                                        "(48) or fd count (1) for context op 1",
                                        "virtio_gpu_virgl_process_cmd: ctrl 0x10c, error 0x1200"],
                                       [0]),  # real-threads-extra/32
    "vm-create-failed": (["[2025-11-06T10:46:05Z ERROR krun] Building the microVM failed: "
                          "Internal(Vm(VmSetup(VmCreate)))", "Error: unable to begin running krun workload"],
                         [0]),  # real-threads-extra/27
    "krunkit-rejected-command-line": ([" Error: krunkit exited unexpectedly with exit code 2"], [0]),  # extra/61
    "host-visible-region-unreserved": (["  [drm:virtio_gpu_init] *ERROR* Could not reserve host visible region",
                                        "  Unable to handle kernel NULL pointer dereference at virtual address (ptrval)"],
                                       [0]),  # real-threads-extra/116
    "vmm-assertion-failed": (["U-Boot 2024.04 (Apr 02 2024 - 10:58:58 +0000)",
                              "Assertion failed: (isv), function hvf_vcpu_exec, file ../target/arm/hvf/hvf.c, line 1920.",
                              "Abort trap: 6"], [1]),  # real-threads-extra/127, its flattened line's parts
    "device-lacks-required-extensions": ([
        "[WARN] Graphics backend forced to vulkan by launch argument, in-game preferred graphics backend setting is ignored",
        "[WARN] Device [Virtio-GPU Venus (Apple M5 Max)] does not support required extensions, missing: [VK_KHR_swapchain, "
        "VK_KHR_synchronization2]", "[ERROR] BackendCreationException: Device missing capabilities"],
        [1]),  # real-threads-extra/12
    "surface-query-failed": (["$ vulkaninfo ",
                              "ERROR at /home/spundun/svntogit-packages-mesa/trunk/src/Vulkan-Tools-1.3.216/vulkaninfo/"
                              "vulkaninfo.h:231:vkGetPhysicalDeviceSurfaceFormats2KHR failed with ERROR_SURFACE_LOST_KHR"],
                             [1]),  # real-threads-extra/08
    "render-server-spawn-denied": (["-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
                                    "failed to initialize venus renderer",
                                    "qemu-system-x86_64: virgl could not be initialized: -1"], [0, 1]),  # a libvirt note
    "venus-renderer-init-failed": (["failed to initialize venus renderer",
                                    "qemu-system-x86_64: virgl could not be initialized: -1"], [0]),
    "virgl-gl-context-error": (["gl_version 33 - core profile enabled",
                                'vrend_report_buffer_error: context error reported 1 "asteroid-launch" Illegal command '
                                'buffer 720905'], [1]),  # AsteroidOS issue 70
    "venus-driver-assertion": (["MESA-VIRTIO: debug: aborting on expired ring alive status at iter 1024",
                                "Assertion failed: physical_dev->renderer_sync_fd.semaphore_importable",
                                "(../src/virtio/vulkan/vn_device.c: vn_device_fix_create_info: 331)"],
                               [1]),  # real-threads-extra/62
    "program-not-installed": (['Error: exec: "krunkit": executable file not found in $PATH',
                               "Error: Command execution failed with exit code 125"], [0]),  # extra/95's words, unglued
    "no-kvm": (["[libcrun:krun]: `/dev/kvm` unavailable", "(exit code 1)"], [0]),  # real-threads-extra/100
    "host-gl-unusable": (["gl_version 32 - core profile enabled", "No provider of glDrawBuffer found. Requires one of:",
                          "Desktop OpenGL 1.0", "Aborted"], [1]),  # real-threads-extra/126
    "qemu-without-gl-device": (["- Process:  ERROR! Failed to start windows-10.conf as windows-10",
                                "qemu-system-x86_64: -device virtio-vga-gl,xres=1280,yres=800: 'virtio-vga-gl' is not a "
                                "valid device model name"], [1]),  # quickemu issue 1449
    "qemu-venus-options": (["qemu-system-aarch64: -device virtio-gpu-gl-pci,venus=on: venus requires enabled blob and "
                            "hostmem options"], [0]),  # a Debian 13 aarch64 host's notes (code index)
    "guest-kernel-panicked": (["[    0.041417] VFS: Failed to pivot into new rootfs",
                               "[    0.042274] Kernel panic - not syncing: Requested init /init.krun failed (error -2).",
                               "[    0.042534] Kernel Offset: disabled"], [1]),  # real-threads-extra/93
    "display-flip-timeout": (["[    5.0] [drm] Initialized virtio_gpu 0.1.0 0 for virtio0 on minor 0",
                              "[drm] *ERROR* [CRTC:45:pipe A] commit wait timed out"], [1]),  # extra/112's second line
    "vm-build-failed": (["[2026-01-22T05:38:44Z ERROR krun] Building the microVM failed: "
                         "Internal(Vm(CreateGuestMemfd(Error(13))))",
                         '{"msg":"exec container process failed with handler as `krun`: Invalid argument",'
                         '"level":"error","time":"2026-01-22T05:38:44.332957Z"}'], [0]),  # real-threads-extra/92
    "render-server-no-libvulkan": (["vkr: failed to open libvulkan: libvulkan.so.1: cannot open shared object file: No "
                                    "such file or directory"], [0]),  # upstream-formats/virglrenderer (the shape of a real paste)
    "no-vulkan-driver": (["ERROR: [Loader Message] Code 0 : vkCreateInstance: Found no drivers!",
                          "Cannot create Vulkan instance."], [0]),  # waydroid issue 2040 (a real paste)
    "render-node-denied": (["MESA: error: Opening /dev/dri/renderD128 failed: Permission denied",
                            "ggml_vulkan: No devices found."], [0]),  # lima issue 4271 (a real paste)
    "host-gpu-fault": (["[12345.678901] NVRM: Xid (PCI:0000:01:00): 69, pid=4321, name=vkr-ring-1, Class Error: ChId "
                        "0010"], [0]),  # synthetic, the shape of waydroid-nvidia issue 10
    "venus-abort-in-backtrace": (["09-19 23:53:25.291  5777  5795 F DEBUG   :       #00 pc 000000000005f68f  "
                                  "/apex/com.android.runtime/lib64/bionic/libc.so (abort+191)",
                                  "09-19 23:53:25.291  5777  5795 F DEBUG   :       #01 pc 00000000000d54ff  "
                                  "/vendor/lib64/hw/vulkan.virtio.so (vn_relax+351)"], [1]),  # real-threads-extra/37
    "vmm-crashed": (["Nov 26 10:33:02 atlas kernel: .qemu-system-x8[1416308]: segfault at 0 ip 00007f0000001234 sp "
                     "00007ffd00000000 error 4 in libc.so.6"], [0]),  # synthetic, the shape of a real NixOS note
    # the loader's words as in real-threads-extra/70 (there radv's library), naming Venus's library instead
    "venus-icd-no-device": (["ERROR: [Loader Message] Code 0 : setup_loader_term_phys_devs: Call to "
                             "'vkEnumeratePhysicalDevices' in ICD /usr/lib/x86_64-linux-gnu/libvulkan_virtio.so failed "
                             "with error code -3"], [0]),
    "capset-timeout": (["[    0.119895] [drm] cap set 0: id 4, max-version 0, max-size 160",
                        "[Wed Dec 24 23:34:46 2025] [drm:virtio_gpu_get_capsets] *ERROR* timed out waiting for cap "
                        "set 0"], [1]),  # real-threads-extra/26
}
# id -> lines that look alike and must not fire it
SILENT = {
    "icd-library-unloadable": ["ERROR: [Loader Message] Code 0 : vkCreateInstance: Found no drivers!",
                               "WARNING: [Loader Message] Code 0 : Layer VK_LAYER_MESA_device_select uses API version 1.3"],
    # the Venus device listed beside the CPU one (real-threads-extra/16), and Venus on a host's lavapipe (the lab)
    "cpu-vulkan-only": ["\t\tGPU id = 0 (Virtio-GPU Venus (Apple M1 Pro))", "\t\tGPU id = 1 (llvmpipe (LLVM 19.1.7, 128 bits))",
                        "deviceName = Virtio-GPU Venus (llvmpipe (LLVM 15.0.6, 256 bits))",
                        # a host's own list: a real GPU beside the CPU device
                        "GPU id = 0 (AMD Radeon RX 7900 XTX (RADV NAVI31))", "GPU id = 1 (llvmpipe (LLVM 18.1.6, 256 bits))"],
    # a soft lockup in the driver (the stuck-task finding's, not this), then a crash elsewhere
    "guest-driver-crashed": ["[  192.311393] watchdog: BUG: soft lockup - CPU#1 stuck for 42s! [kworker/1:1:33]",
                             "[  192.357539]  virtio_gpu_queue_ctrl_buffer_locked+0x180/0x248 [virtio_gpu]",
                             "[ 1000.1] BUG: kernel NULL pointer dereference, address: 0000000000000008",
                             "[ 1000.2]  ext4_readdir+0x5a/0x9c0", "[ 1000.3]  iterate_dir+0x10f/0x1c0"],
    "guest-driver-warning": ["[   20.5] WARNING: CPU: 0 PID: 1 at fs/ext4/inode.c:12 ext4_foo+0x1/0x2",
                             "[   20.6]  ext4_bar+0x1/0x2"],
    # the driver's frames in a WARN_ON's trace, then a task stuck elsewhere
    "guest-stuck-in-virtio-gpu": ["WARNING: CPU: 0 PID: 568 at drivers/gpu/drm/virtio/virtgpu_vq.c:358",
                                  " virtio_gpu_queue_ctrl_sgs+0x236/0x290 [virtio_gpu]",
                                  "INFO: task jbd2/vda1-8:201 blocked for more than 120 seconds.",
                                  " io_schedule+0x12/0x40", " wait_on_page_bit+0x13a/0x210",
                                  # sysrq-t's dump of a task sleeping (state S) in the driver's wait: a normal wait
                                  "[  300.000001] task:gnome-shell     state:S stack:0     pid:1200  ppid:1",
                                  "[  300.000002]  schedule+0x68/0x168",
                                  "[  300.000003]  virtio_gpu_wait_ioctl+0x1a0/0x1f0 [virtio_gpu]"],
    "library-not-found": ["  Referenced from: <57EF7625-287B-31FA-89D3-5F3EAD00566C> /opt/podman/bin/krunkit",
                          "MESA-LOADER: failed to open dri: /run/opengl-driver/lib/gbm/dri_gbm.so: cannot open shared "
                          "object file: No such file or directory (search paths /run/opengl-driver/lib/gbm, suffix _gbm)",
                          "gbm: Last dlopen error: /run/opengl-driver/lib/dri/swrast_dri.so: cannot open shared object "
                          "file: No such file or directory",
                          "vkcube: /lib/libvulkan.so.1: no version information available (required by vkcube)",
                          # a program outside the stack
                          "python3: error while loading shared libraries: libpython3.11.so.1.0: cannot open shared "
                          "object file: No such file or directory"],
    "library-mismatch": ["vkcube: symbol lookup error: /usr/lib/libfoo.so.1: undefined symbol: foo_bar"],
    # the node listed, its driver named, a kernel with the driver; Mesa probing its DRI and GBM backends (it tries the
    # next: real-threads-extra/70's MESA-LOADER lines and gbm's)
    "no-drm-device": ["/dev/dri/renderD128: driver='virtio_gpu'", "crw-rw---- 1 root render 226, 128 /dev/dri/renderD128",
                      "CONFIG_DRM_VIRTIO_GPU=m", "# CONFIG_DRM_I915 is not set",
                      "ls: cannot access '/dev/dri/by-path': No such file or directory"],
    "vmm-says-why-command-failed": ["qemu-system-aarch64: virtio_gpu_virgl_process_cmd: ctrl 0x209, error 0x1200"],
    "render-server-cannot-export-memory": ["virgl_render_server[2351]: vkr: failed to import resource: invalid res_id 5"],
    "gpu-shm-window-full": ["[2025-06-10T12:00:00Z DEBUG devices::virtio::gpu::virtio_gpu] mapping: map_ptr=0x1, guest_addr=0x2"],
    "vcpu-unexpected-exit": ["[2024-05-30T01:48:09Z DEBUG vmm::linux::vstate] Guest memory starts at 0xfffe03c30000"],
    "hvf-16k-granularity": ["[WARN  hvf] map_memory: host_start_addr=0x102a50000, guest_start_addr=0x50000000, size=0x4000"],
    "hvf-unsupported": ["qemu-system-aarch64: Error: ret = HV_BAD_ARGUMENT (0xfae94003, at hvf.c:1)",
                        # a register this Mac does not expose, read from a running VM (real-threads-extra/68)
                        "[vm1] get_sys_reg CNTVOFF_EL2        -> 0xfae9400f (HV_UNSUPPORTED)"],
    "import-not-exportable": ["vkr: destroying device with valid objects"],
    "ring-fatal-host-decoder": ["vkr: vkQueueSubmit resulted in CS error"],
    "nvidia-virglrenderer-preload": ["2. PhysDev OK Virtio-GPU Venus (AMD Radeon RX 6950 XT (RADV NAVI21))",
                                     "MESA-VIRTIO: debug: vn_CreateDevice: VK_ERROR_INITIALIZATION_FAILED"],
    "host-not-venus": ["[    6.542703] [drm] cap set 2: id 4, max-version 0, max-size 160"],
    "no-render-server": ["qemu-system-x86_64: warning: GL context is not current",
                         "DRM native context support was not enabled in virglrenderer"],
    "virgl-built-without-renderer": ["Vulkan support was not enabled in virglrenderer"],  # Venus's: no-render-server
    "qemu-without-property": ["qemu-system-x86_64: -device foo: Property 'foo.bar' not found"],
    "wrong-icd": ["WARNING: [Loader Message] Code 0 : Layer VK_LAYER_MESA_device_select uses API version 1.3"],
    "kvm-efault-blob": ["[2026-09-01T10:00:00Z ERROR krun_vmm::linux::vstate] Failure during vcpu run: Interrupted"],
    "unmap-blob-fails": ["[   54.2] [drm:virtio_gpu_dequeue_ctrl_func [virtio_gpu]] *ERROR* response 0x1203 (command 0x10c)"],
    "map-blob-fails": ["[drm:virtio_gpu_dequeue_ctrl_func [virtio_gpu]] *ERROR* response 0x1200 (command 0x207)"],
    "virtio-gpu-command-error": ["[drm:virtio_gpu_dequeue_ctrl_func [virtio_gpu]] *ERROR* response 0x1200 "
                                 "(command 0x209)", "[    6.456471] [drm] pci: virtio-gpu-pci detected at 0000:00:01.0"],
    "rutabaga-init-failed": ["thread 'main' panicked at src/main.rs:10:5:"],
    "fence-waits-host-answers": ["MESA-VIRTIO: debug: stuck in fence wait with iter at 1024",
                                 "MESA-VIRTIO: debug: aborting on expired ring alive status at iter 8192",
                                 "4321@1700000000.100100:virtio_gpu_fence_resp fence 0x51"],
    "instance-out-of-host-memory": ["vkCreateDevice failed with ERROR_OUT_OF_HOST_MEMORY"],
    "device-initialization-failed": ["2. PhysDev OK Virtio-GPU Venus (NVIDIA H100 80GB HBM3)",
                                     "MESA-VIRTIO: debug: vn_CreateDevice: VK_ERROR_INITIALIZATION_FAILED"],
    "blob-needs-udmabuf": ["qemu-system-x86_64: -device virtio-vga-gl,blob=true: Property 'virtio-vga-gl.foo' not found",
                           "qemu-kvm: warning: host doesn't support requested feature"],
    "render-server-rejects-requests": ["Jan 20 15:19:34  virgl_render_server[54635] <Debug>: DEBUG: op=1 "
                                       "expect_size=16 req_size=48 max_fd=2 fd_count=1",
                                       "virtio_gpu_virgl_process_cmd: ctrl 0x10c, error 0x1200"],
    "vm-create-failed": ["[2025-11-06T10:46:05Z ERROR krun] Building the microVM failed: Internal(Vm(VmSetup(VcpuCreate)))",
                         "Error: unable to begin running krun workload"],
    "krunkit-rejected-command-line": ["Error: krunkit exited unexpectedly with exit code 1"],
    # the window reserved: its size logged after an unrelated drm error (synthetic, in the kernel's formats)
    "host-visible-region-unreserved": ["[drm:virtio_gpu_init] *ERROR* Could not reserve host visible region",
                                       "[drm] Host memory window: 0x8000000000 +0x100000000"],
    # the guest's Mesa asserting (its own finding when it is the ring or the capset), and an assertion's prose
    "vmm-assertion-failed": ["vkcube: ../src/virtio/vulkan/vn_renderer_virtgpu.c:1516: virtgpu_init_capset: "
                             "Assertion `gpu->capset.data.supports_blob_id_0' failed.",
                             "vkcube: ../src/util/u_queue.c:123: util_queue_add_job: Assertion `x' failed.",
                             "glxgears: ../src/gallium/drivers/virgl/virgl_context.c:77: virgl_f: Assertion `y' failed.",
                             "see the Assertion failed: (isv) report in hw/ and target/"],
    "device-lacks-required-extensions": ["[ERROR] BackendCreationException: Device missing capabilities",
                                         "  VK_KHR_swapchain                      : extension revision 70"],
    "surface-query-failed": ["vkAcquireNextImageKHR returned VK_ERROR_OUT_OF_DATE_KHR",
                             "vkQueuePresentKHR failed with VK_ERROR_SURFACE_LOST_KHR",
                             "Presentable Surfaces:", "GPU id : 0 (Virtio-GPU Venus (Apple M1))"],
    # the sandbox without Venus failing (an EGL failure under it), and Venus failing without the sandbox
    "render-server-spawn-denied": ["-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
                                   "qemu-system-x86_64: egl: eglInitialize failed",
                                   "Render server support was not enabled in virglrenderer"],
    # built without it (its own finding), and under a sandbox that denies spawning (its own finding)
    "venus-renderer-init-failed": ["Render server support was not enabled in virglrenderer",
                                   "failed to initialize venus renderer",
                                   "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"],
    # the GL renderer's start (no error), and Venus's context failing (another finding)
    "virgl-gl-context-error": ["gl_version 33 - core profile enabled",
                               "vkr: context 5 (vkcube) fatal: vkr_context_on_command_error"],
    # another program's assertion, and Venus's own failure lines without one
    "venus-driver-assertion": ["vkcube: ./cube/cube.c:3598: demo_init_vk: Assertion `!err' failed.",
                               "MESA-VIRTIO: debug: vn_ring_submit abort on fatal"],
    # another program missing (not the stack's), and the stack's programs found
    "program-not-installed": ["bash: neofetch: command not found", "/usr/bin/krunkit", "krunkit: error: unknown flag"],
    # the node listed, KVM named on a command line, KVM_RUN failing once the VM runs (its own finding)
    "no-kvm": ["crw-rw---- 1 root kvm 10, 232 Jan  1 00:00 /dev/kvm", "qemu-system-x86_64 -accel kvm -m 4G",
               "error: kvm run failed Bad address", "+ [ -e /dev/kvm ] || die 'cannot run without KVM'",
               "Checking /dev/kvm ... ok; if the VM failed to boot, check the console"],
    # the guest's own GL failing (its Mesa's EGL, a guest program's libepoxy or shader), not the VMM's
    "host-gl-unusable": ["Desktop OpenGL 1.0", "libEGL warning: egl: failed to create dri2 screen",
                         "No provider of glGenVertexArrays found.  Requires one of:", "Aborted (core dumped)",
                         "0:1(10): error: GLSL 4.30 is not supported. Supported versions are: 1.10, 1.20"],
    "qemu-without-gl-device": ["qemu-system-x86_64: -device foo: 'foo' is not a valid device model name",
                               "qemu-system-x86_64: -device virtio-vga: 'virtio-vga' is not a valid device model name"],
    "qemu-venus-options": ["qemu-system-x86_64: -device virtio-gpu-gl-pci,venus=on,blob=true,hostmem=4G: Property "
                           "'virtio-gpu-gl-pci.venus' not found"],
    "guest-kernel-panicked": ["[    0.000000] Kernel command line: console=ttyS0 panic=1 oops=panic",
                              "kernel.panic_on_oops = 1", "[    0.000000] Linux version 6.6.95 (panic@build) #1 SMP"],
    "display-flip-timeout": ["[    5.0] [drm] Initialized virtio_gpu 0.1.0 0 for virtio0 on minor 0",
                             # the host's own GPU timing out (its display, not the guest's)
                             "Jun 10 12:00:00 myhost kernel: amdgpu 0000:03:00.0: [drm] *ERROR* [CRTC:82:crtc-0] "
                             "flip_done timed out",
                             "[drm] *ERROR* fbdev: Failed to setup generic emulation (ret=-12)"],
    "vm-build-failed": ["Linux: [2025-08-26T13:45:04Z ERROR krun] Building the microVM failed: "
                        "Internal(Vm(VmSetup(VmCreate)))"],  # the hypervisor's refusal: its own finding (extra/94)
    "render-server-no-libvulkan": ["vkr: failed to open udmabuf device: No such file or directory"],
    "no-vulkan-driver": ["WARNING: [Loader Message] Code 0 : Layer VK_LAYER_MESA_device_select uses API version 1.3",
                         "MESA: error: Opening /dev/dri/renderD128 failed: Permission denied",
                         "ggml_vulkan: No devices found."],  # the node denied: that finding, not this one
    "render-node-denied": ["MESA: error: Opening /dev/dri/renderD128 failed: No such file or directory"],
    "host-gpu-fault": ["[12345.678901] NVRM: Xid (PCI:0000:01:00): 69, pid=4321, name=Xorg, Class Error: ChId 0010"],
    "venus-abort-in-backtrace": ["09-19 23:53:25.291  5777  5795 F DEBUG   :       #03 pc 00000000000b136e  "
                                 "/vendor/lib64/hw/vulkan.virtio.so (vn_submit_vkCreateBuffer+526)"],
    "vmm-crashed": ["Nov 26 10:33:02 atlas kernel: firefox[1416308]: segfault at 0 ip 00007f0000001234 sp "
                    "00007ffd00000000 error 4 in libxul.so"],
    # another ICD's enumeration failing (real-threads-extra/70: radv beside Venus), and Venus's failing for a known cause
    "venus-icd-no-device": ["ERROR: [Loader Message] Code 0 : setup_loader_term_phys_devs: Call to "
                            "'vkEnumeratePhysicalDevices' in ICD /usr/lib/x86_64-linux-gnu/libvulkan_radeon.so failed "
                            "with error code -3",
                            "ERROR: [Loader Message] Code 0 : setup_loader_term_phys_devs: Call to "
                            "'vkEnumeratePhysicalDevices' in ICD /usr/lib/x86_64-linux-gnu/libvulkan_virtio.so failed "
                            "with error code -3",
                            "MESA: error: Opening /dev/dri/renderD128 failed: Permission denied"],
    "capset-timeout": ["[    0.119895] [drm] cap set 0: id 4, max-version 0, max-size 160",
                       "[    0.119992] [drm:virtio_gpu_dequeue_ctrl_func] *ERROR* response 0x1200 (command 0x108)",
                       "[    5.123456] [drm:virtio_gpu_get_capsets] *ERROR* timed out waiting for cap set 0"],
}
NOISE = ["[  OK  ] Started session-2.scope - Session 2 of User user.",  # real-threads-extra/02
         "WARNING: [Loader Message] Code 0 : Layer VK_LAYER_MESA_device_select uses API version 1.3",
         "vkr: destroying context 3 (vkmark) with a valid instance", "just some program output 12345"]


def model_of(lines: list[str]) -> Model:
    model = Model()
    data = "".join(line + "\n" for line in lines).encode()
    Ingest(Parser(), model).fold(Chunk("paste", "file", 0, 0, data, False, 0.0, 0.0, seq=1))
    return model


def fired(lines: list[str]) -> set[str]:
    return {finding.rule for finding in diagnose(model_of(lines))}


def test_every_data_file_loads_and_every_signature_has_firing_and_silent_fixtures():
    signatures = knowledge.load()
    assert {s.id for s in signatures} == set(FIRES) == set(SILENT)
    files = {s.source for s in signatures}
    assert len(files) >= 4
    for signature in signatures:
        assert signature.claim and (signature.symptom or (signature.fix and signature.next and signature.cause))
        assert signature.confidence in knowledge.CONFIDENCES


@pytest.mark.parametrize("sid", sorted(FIRES))
def test_each_signature_fires_on_its_evidence_and_not_on_look_alikes(sid):
    lines, _keys = FIRES[sid]
    assert sid in fired(lines)
    assert sid not in fired(SILENT[sid])


@pytest.mark.parametrize("sid", sorted(FIRES))
def test_each_signature_falls_silent_without_a_key_line(sid):
    lines, keys = FIRES[sid]
    for key in keys:
        assert sid not in fired([line for k, line in enumerate(lines) if k != key]), lines[key]


ENVELOPES = [
    lambda r, line: line,
    lambda r, line: "    " + line,
    lambda r, line: f"2025-02-18 07:{r.randrange(60):02d}:{r.randrange(60):02d},{r.randrange(1000):03d}: {line}",
    lambda r, line: f"[{r.randrange(100000):6d}.{r.randrange(1000000):06d}] {line}" if not line.startswith("[") else line,
    lambda r, line: (f"Nov {r.randrange(1, 29):2d} 10:33:02 box{r.randrange(9)} prog{r.randrange(9)}"
                     f"[{r.randrange(1, 99999)}]: {line}"),
    lambda r, line: f"> {line}",
]


def perturbed(lines: list[str], seed: int) -> list[str]:
    """Other addresses, iterations and pids; another envelope per line; unrelated lines between."""
    r = random.Random(seed)
    out = []
    for line in lines:
        line = re.sub(r"0x[0-9a-f]{8,}", lambda m: "0x" + "".join(r.choice("0123456789abcdef")
                                                                 for _ in m.group()[2:]), line)
        line = re.sub(r"(iter at |res_id |os error 1)\d+", lambda m: m.group(1) + (m.group()[len(m.group(1)):]
                      if m.group(1) == "os error 1" else str(r.randrange(1, 99999))), line)
        if r.random() < 0.5:
            out.append(r.choice(NOISE))
        out.append(r.choice(ENVELOPES)(r, line))
    return out


@settings(deadline=None, max_examples=60)
@given(sid=st.sampled_from(sorted(FIRES)), seed=st.integers(0, 2**32 - 1))
def test_signatures_fire_on_perturbed_copies_and_fall_silent_without_their_key_line(sid, seed):
    lines, keys = FIRES[sid]
    copy = perturbed(lines, seed)
    assert sid in fired(copy), copy
    key = lines[keys[0]]
    without = perturbed([line for line in lines if line != key], seed)
    assert sid not in fired(without), without


def test_every_rule_named_for_its_confidence_is_a_rule_that_exists():
    import re as _re

    from venustui import diagnose as D

    from ..conftest import ROOT

    source = (ROOT / "venustui" / "diagnose.py").read_text()
    ids = set(_re.findall(r'"([a-z][a-z-]+)", (?:CRITICAL|ERROR|WARNING|INFO)', source))
    ids |= set(_re.findall(r'Finding\(\s*"([a-z-]+)"', source))
    assert set(D.RULE_CONFIDENCE) <= ids, set(D.RULE_CONFIDENCE) - ids


def test_a_guest_kernel_without_the_venus_capset_says_the_host_does_not_serve_venus():
    """Synthetic (labelled), in the guest kernel's exact format (tests/data/qemu-lavapipe shows the real one)."""
    lines = ["[    6.469677] [drm] number of cap sets: 2",
             "[    6.532429] [drm] cap set 0: id 1, max-version 1, max-size 308",
             "[    6.537628] [drm] cap set 1: id 2, max-version 2, max-size 1384"]
    assert "no-venus-capset" in fired(lines)
    assert "no-venus-capset" not in fired(lines + ["[    6.542703] [drm] cap set 2: id 4, max-version 0, max-size 160"])


def test_the_labs_versions_come_from_the_packages_it_installed(tmp_path):
    """The TUI on the lab hands these to the findings (an NVIDIA finding is then confirmed or ruled out)."""
    import json

    from venustui.lab import Lab

    (tmp_path / "lab.json").write_text(json.dumps({"pairs": {"26.2x1.3": {
        "versions": {"mesa": "26.2.6", "virglrenderer": "1.3.0"}, "glibc": "2.43"}}}))
    assert Lab(root=tmp_path, pair="26.2x1.3").versions() == {
        "mesa": "26.2.6", "virglrenderer": "1.3.0", "host driver": "lavapipe (Mesa 26.2.6)", "glibc": "2.43"}
    assert Lab(root=tmp_path, pair="25.0x1.1").versions() == {}  # a pair not installed
    assert Lab(root=tmp_path / "none").versions() == {}


def test_a_field_that_is_not_a_number_is_not_evidence_and_never_an_error():
    """Log text can hold anything: a size that is not a number matches neither multiple_of nor its opposite."""
    from types import SimpleNamespace

    match = next(m for s in knowledge.load() if s.id == "hvf-16k-granularity" for m in s.confirmed_by)
    assert match.accepts(SimpleNamespace(fields={"size": "0x4001"}, text=""))
    assert not match.accepts(SimpleNamespace(fields={"size": "0x4000"}, text=""))
    for garbage in ("0xzz", "", "-", "1e9", "0x" + "f" * 40):
        assert not match.accepts(SimpleNamespace(fields={"size": garbage}, text=""))


def test_lab_pairs_are_named_by_series_and_a_series_gone_names_the_nearest():
    """Pairs as a user types them; a series the archive no longer serves is a one-line error naming the nearest."""
    from venustui.errors import UserError
    from venustui.lab_install import Pair, _not_served, series_of, upstream

    assert Pair.parse("26.2x1.3") == Pair.parse("26.2×1.3") == Pair("26.2", "1.3")
    assert Pair("25.0", "1.1").id == "25.0x1.1"
    assert upstream("1:19.1.7-3+b1") == "19.1.7" and series_of("26.1.6-1~bpo13+1") == "26.1"
    served = {"25.0": ("25.0.7-2", "trixie"), "26.1": ("26.1.6-1", "trixie-backports"), "26.2": ("26.2.6-1", "sid")}
    message = _not_served("mesa", "26.3", served)
    assert "Mesa 26.3 is not served" in message and "the nearest is --mesa 26.2" in message and "\n" not in message
    assert "--mesa 25.0" in _not_served("mesa", "24.3", served)
    for bad in ("26.2", "x1.3", "mesa26.2-virgl"):
        try:
            Pair.parse(bad)
        except UserError as exc:
            assert "MESAxVIRGL" in str(exc)
        else:
            raise AssertionError(f"{bad!r} parsed")


def test_a_vtest_server_without_venus_confirms_the_host_serves_none():
    """A vtest server's command line without --venus (ps, pstree, systemctl status) beside the guest's "no venus
    capset": the mechanism itself (synthetic lines, labelled; the capset line is Mesa's spelling)."""
    guest = "MESA-VIRTIO: debug: no venus capset"
    server = "user  1234  0.0  0.1 12345 6789 ?  Ss 10:00 0:00 /usr/bin/virgl_test_server --use-egl-surfaceless"

    def confidence(lines: list[str]) -> str:
        (finding,) = [f for f in diagnose(model_of(lines)) if f.rule == "host-not-venus"]
        return finding.confidence

    assert confidence([server, guest]) == "confirmed"
    assert confidence([server.replace("--use", "--venus --use"), guest]) == "likely"
    assert confidence([guest]) == "likely"


def test_vkcube_without_a_driver_is_no_vulkan_driver():
    assert "no-vulkan-driver" in fired(["Cannot find a compatible Vulkan installable client driver (ICD).",
                                        "vkCreateInstance Failure"])


def test_android_s_loader_without_its_vulkan_hal_is_no_vulkan_driver():
    """Android's libvulkan (frameworks/native/vulkan/libvulkan/driver.cpp) in logcat's threadtime form, as Waydroid and
    Cuttlefish print it; its format string, filled (synthetic, labelled)."""
    line = "05-12 10:00:00.123  1234  1250 E vulkan  : failed to load vulkan hal: No such file or directory (-2)"
    assert "no-vulkan-driver" in fired([line])
    assert "no-vulkan-driver" not in fired(["05-12 10:00:00.123  1234  1250 I vulkan  : loaded vulkan hal"])


def test_a_trace_s_frames_are_its_own_not_an_earlier_trace_s():
    """Frames count for the oops or stuck task whose trace they are in, never for one before the trace's end or
    before another trace's header (synthetic lines in the kernel's formats, labelled)."""
    ext4 = ["[ 10.1] BUG: kernel NULL pointer dereference, address: 0000000000000008", "[ 10.2]  ext4_readdir+0x5a/0x9c0",
            "[ 10.3] ---[ end trace 0000000000000000 ]---"]
    warn = ["[ 20.1] WARNING: CPU: 0 PID: 568 at drivers/gpu/drm/virtio/virtgpu_vq.c:358",
            "[ 20.2]  virtio_gpu_queue_fenced_ctrl_buffer+0x82/0x2c0 [virtio_gpu]"]
    stuck = ["INFO: task jbd2/vda1-8:201 blocked for more than 120 seconds.", " io_schedule+0x12/0x40"]
    assert fired(ext4 + warn) & {"guest-driver-crashed", "guest-driver-warning"} == {"guest-driver-warning"}
    assert fired(stuck + warn) & {"guest-stuck-in-virtio-gpu", "guest-driver-warning"} == {"guest-driver-warning"}
    oops = ["[  573.935889] Oops: 0000 [#1] PREEMPT SMP PTI",
            "[  573.935995]  virtio_gpu_cursor_plane_update+0x1c3/0x2a0 [virtio_gpu]"]
    found = {finding.rule: finding for finding in diagnose(model_of(ext4[:2] + oops))}  # no end line: the header ends it
    assert "Oops: 0000" in found["guest-driver-crashed"].claim


def test_a_later_anchor_is_tried_when_the_first_has_nothing_after_it():
    """An oops elsewhere, 90 unrelated lines (past the window), then an oops through the driver: the second fires
    (synthetic, labelled)."""
    lines = (["[ 10.1] BUG: kernel NULL pointer dereference, address: 0000000000000008", "[ 10.2]  ext4_readdir+0x5a/0x9c0"]
             + [f"[ 11.{k}] usb 1-1: new high-speed USB device number {k}" for k in range(90)]
             + ["[ 573.9] Oops: 0000 [#2] PREEMPT SMP PTI", "[ 574.0]  virtio_gpu_cursor_plane_update+0x1c3/0x2a0 [virtio_gpu]"])
    found = {finding.rule: finding for finding in diagnose(model_of(lines))}
    assert "[#2]" in found["guest-driver-crashed"].claim


def test_the_oom_killer_ending_the_vmm_is_the_vmm_dying_and_another_process_is_not():
    """The kernel's OOM-killer line (its format, filled: synthetic, labelled)."""
    assert "vmm-crashed" in fired(["[ 1234.567890] Out of memory: Killed process 4321 (qemu-system-x86) "
                                   "total-vm:16777216kB, anon-rss:8388608kB"])
    assert "vmm-crashed" not in fired(["[ 1234.567890] Out of memory: Killed process 4321 (firefox) total-vm:1kB"])
    # a word of the stack inside another program's arguments, or a name that only starts like one
    for line in ("[1]+  Killed                  tail -f /var/log/libvirt/qemu/win10.log",
                 "./build.sh: line 12: 4242 Killed  cc1plus -O2 virglrenderer/src/vrend_renderer.c",
                 "Aborted (core dumped)  vkrunner test.shader_test",
                 "[ 1.2] Out of memory: Killed process 1 (krunner) total-vm:1kB"):
        assert "vmm-crashed" not in fired([line]), line


@pytest.mark.parametrize("line", [
    "Could not access KVM kernel module: Permission denied",  # docker-osx issue 55
    "failed to initialize KVM: Permission denied",  # an older QEMU's case (dockertopo issue 25, relayed by libvirt)
    "2019-06-13 19:22:12.012+0000: 41: error : qemuProcessReportLogError:1922 : internal error: process exited while "
    "connecting to monitor: Could not access KVM kernel module: Permission denied",  # the same, libvirt's words around it
    "Error creating the Kvm object: Error(2)",  # libkrun under muvm in an LXC container (muvm issue 99)
    "[libcrun:krun]: `/dev/kvm` unavailable",  # crun's krun handler (crun issue 1856)
    "Could not open /dev/kvm: Operation not permitted",  # (EPERM, a seccomp or container policy: the shape, labelled)
])
def test_each_vmm_s_words_for_no_kvm_say_so(line):
    assert "no-kvm" in fired([line])


def test_vkcreateinstance_s_incompatible_driver_is_no_driver_and_another_call_s_failure_is_not():
    """Qubes issue 7107 (an HVM guest without a paravirtual GPU): the loader's VK_ERROR_INCOMPATIBLE_DRIVER."""
    assert "no-vulkan-driver" in fired(["Cannot create Vulkan instance.",
                                        "ERROR at /build/vulkan-tools/src/Vulkan-Tools-1.2.199/vulkaninfo/vulkaninfo.h:687:"
                                        "vkCreateInstance failed with ERROR_INCOMPATIBLE_DRIVER"])
    assert "no-vulkan-driver" not in fired(["vkCreateDevice failed with ERROR_INITIALIZATION_FAILED",
                                            "vkCreateDevice failed (VkResult: -9)",
                                            "vkCreateInstance failed with ERROR_OUT_OF_HOST_MEMORY"])


@pytest.mark.parametrize("line", [
    'Error: exec: "krunkit": executable file not found in $PATH',  # podman issue 25158
    "bash: qemu-system-aarch64: command not found",
    "zsh: command not found: qemu-system-aarch64",
    "/home/u/run-vm.sh: line 12: krunkit: command not found",
    "sudo: krunkit: command not found",
    "/usr/bin/env: 'krunkit': No such file or directory",
    'Error: could not find "krunkit" in one of [/usr/local/opt/podman/libexec/podman /usr/local/bin]. To resolve this '
    "error, set the helper_binaries_dir key in the `[engine]` section of containers.conf to the directory containing "
    "your helper binaries.",
    "error: Cannot find 'qemu-system-x86_64' in path: No such file or directory",
])  # the shells', Go's, env's, podman's and libvirt's words (their formats, filled: labelled)
def test_each_tool_s_words_for_a_missing_program_say_so(line):
    assert "program-not-installed" in fired([line])



@pytest.mark.parametrize("lines", [
    ["# ls: /dev/dri: No such file or directory", "# CONFIG_DRM is not set"],  # real-threads-extra/192 (smolvm#729)
    ["CONFIG_DRM_VIRTIO_GPU is not set"],  # a .config grepped without its comment sign (labelled)
    ["ls: cannot access '/dev/dri/renderD128': No such file or directory"],  # coreutils' words (labelled)
])
def test_no_drm_device_in_each_tool_s_words(lines):
    assert "no-drm-device" in fired(lines)


def test_a_library_a_front_end_loads_at_run_time_missing_is_the_missing_library():
    """real-threads-extra/191 (smolvm#317): dlopen()'s words for libkrun's own dependency, inside the front end's error."""
    line = ("Error: agent operation failed: start machine: agent operation failed: monitor agent: agent operation "
            "failed: load libkrun: failed to load /var/home/hugo/.smolvm/lib/libkrun.so: libvirglrenderer.so.1: cannot "
            "open shared object file: No such file or directory")
    assert "library-not-found" in fired([line])
