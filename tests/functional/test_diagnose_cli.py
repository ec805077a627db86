"""`venustui diagnose`: on each real thread (tests/data/real-threads*, provenance in the MANIFESTs) the cause the
thread's maintainers concluded, ranked first; the benign thread raises nothing above info; stdin, folders,
JSON, Markdown and redaction; exit status by what was found."""

from __future__ import annotations

import codecs
import json

import pytest

from venustui.diagnose import diagnose
from venustui.session import fold_files

from ..conftest import DATA, run_cli

REAL = DATA / "real-threads"
EXTRA = DATA / "real-threads-extra"

# fixture -> the findings its thread's cause must give (MANIFEST.md's last column), the first being the top one
CAUSES = [
    (REAL / "01-qemu-tcg-vkmark-kms-vn_ring_submit-abort.log", ["import-not-exportable", "wrong-icd"]),
    (REAL / "02-qemu-tcg-vkmark-kms-vkr-invalid-res_id-destroying-context.log", ["import-not-exportable"]),
    (REAL / "05-qemu-functional-test-vkmark-tgl-stuck-in-fence-wait.log", ["stuck-fence-alive"]),
    (REAL / "08-krunkit-hvf-map_memory-err-createFence-OutOfHostMemory.log", ["hvf-16k-granularity"]),
    (REAL / "10-smolvm-nvidia-vn_CreateDevice-INITIALIZATION_FAILED.log", ["nvidia-virglrenderer-preload"]),
    (REAL / "12-muvm-vkcube-venus-assert-supports_blob_id_0.log", ["host-not-venus"]),
    (DATA / "qemu-lavapipe" / "guest-serial-hostmem64k.log", ["ring-shmem"]),
    (EXTRA / "01-libkrun832-muvm-venus-arc-kvm_run-efault.log", ["kvm-efault-blob"]),
    (EXTRA / "02-qemu-devel-v12-tcg-aarch64-vkcube-fence-wait-drm-0x1200.log", ["unmap-blob-fails"]),
    (EXTRA / "05-krunkit114-vulkaninfo-createinstance-OOHM-16k-blob.log", ["instance-out-of-host-memory"]),
    (EXTRA / "07-utm7584-qemu-hvf-ipa-granule-HV_UNSUPPORTED.log", ["hvf-unsupported"]),
    (EXTRA / "09-msys2-28875-qemu-whpx-venus-on-no-render-server.log", ["no-render-server"]),
    (EXTRA / "10-nixpkgs379454-qemu-virtio-vga-gl-no-render-server.log", ["no-render-server"]),
    (EXTRA / "11-venuspatches6-qemu-context_init-property-not-found.log", ["qemu-without-property"]),
    (EXTRA / "14-smolvm1292-macos-m1pro-vulkaninfo-OOHM-chromium-angle.log", ["instance-out-of-host-memory"]),
    (EXTRA / "20-waylandproxyvirtwl53-crosvm-drm-error-0x1200-cmd-0x207.log", ["virtio-gpu-command-error"]),
    (EXTRA / "21-nixosapplesilicon237-muvm-libkrun-rutabaga-init-failed.log", ["rutabaga-init-failed"]),
    (EXTRA / "23-waylandproxyvirtwl37-crosvm-map-blob-register-memory-eacces.log", ["map-blob-fails"]),
    (EXTRA / "47-qemudevel-pull23-vkmark-weston-egl-ubsan-stuck-fence-wait.log", ["stuck-fence-alive"]),
    (EXTRA / "48-waylandproxyvirtwl43-crosvm-submit3d-invalid-resource-id.log",
     ["vmm-says-why-command-failed", "virtio-gpu-command-error"]),
    (EXTRA / "50-qemustable811-s390x-blob-nr_entries-too-big.log",
     ["vmm-says-why-command-failed", "virtio-gpu-command-error"]),
    (EXTRA / "51-muvm19-krun-systemevent-set_shm_region.log", ["vcpu-unexpected-exit"]),
    (EXTRA / "52-muvm101-gpu-worker-rutabaga-init-panic.log", ["rutabaga-init-failed"]),
    (EXTRA / "56-codeindex-podman-krunkit-m3pro-map-blob-0x1200-createinstance-oohm.log",
     ["map-blob-fails", "instance-out-of-host-memory"]),
    (EXTRA / "57-codeindex-krunkit-fedora44-venus-ok-then-oohm-card0-denied-noise.log",
     ["map-blob-fails", "instance-out-of-host-memory"]),
    (EXTRA / "61-podman29439-krunkit-timesync-exit-code-2.log", ["krunkit-rejected-command-line"]),
    (EXTRA / "63-pannousqemu-56806f42-render-server-no-libvulkan-createinstance-oohm.log",
     ["render-server-no-libvulkan"]),
    (EXTRA / "64-codeindex-windows-guest-kmd-vkr-invalid-res_id-fatal-decoder.log", ["import-not-exportable"]),
    (EXTRA / "65-codeindex-hobby-os-venus-cs-error-ctrlq-timeout.log", ["context-fatal"]),
    (EXTRA / "66-codeindex-microvm-waypipe-mpv-ring-seqno-wait-alive-expired.log", ["ring-alive-expired"]),
    (EXTRA / "67-qemudevel-drm-native-context-v4-virgl-built-without-capset-timeout.log",
     ["virgl-built-without-renderer", "capset-timeout"]),
    (EXTRA / "71-codeindex-lima-krunkit-m5pro-ring-shmem-createinstance-oohm-annotated.log", ["ring-shmem"]),
    (EXTRA / "72-limina-libkrun-resume-gpu-worker-reset-invalid-context-id.log", ["vmm-says-why-command-failed"]),
    (EXTRA / "08-vulkantools659-crostini-venus-vulkaninfo-SURFACE_LOST.log", ["surface-query-failed"]),
    (EXTRA / "12-index1686-vmkit-libkrun-minecraft-venus-missing-swapchain.log", ["device-lacks-required-extensions"]),
    (EXTRA / "93-libkrun-init-krun-kernel-panic.log", ["guest-kernel-panicked"]),
    (EXTRA / "95-podman-desktop-krunkit-missing-glued.log", ["program-not-installed"]),
    (EXTRA / "100-crun-krun-dev-kvm-unavailable.log", ["no-kvm"]),
    (EXTRA / "112-gvtg-qemu-guest-drm-flip-timeout-bare.log", ["display-flip-timeout"]),
    (EXTRA / "126-xnip-fc24-live-qemu-virgl-sdl-gl-xdriinfo-virtio_gpu.log", ["host-gl-unusable"]),
    (EXTRA / "127-qemu2312-hvf-isv-assert-qemu-xhci-flattened.log", ["vmm-assertion-failed"]),
    (EXTRA / "128-displayvirt12-qemu-virtio-vga-blob-gtk-gl-libepoxy-no-provider-eglCreateImageKHR.log",
     ["host-gl-unusable"]),
    (EXTRA / "129-flathubboxes68-silverblue35-virtio-vga-gl-opengl-is-not-available.log", ["host-gl-unusable"]),
    (EXTRA / "130-nixpkgs60908-gnome-boxes-virgl-gbm-create-device-failed.log", ["host-gl-unusable"]),
    (EXTRA / "131-flathubboxes97-nvidia550-libvirt-spice-gl-eglInitialize-failed.log", ["host-gl-unusable"]),
    (EXTRA / "132-proxmoxnixos190-pve-virgl-display-egl-render-node-init-failed.log", ["host-gl-unusable"]),
    (EXTRA / "133-vdsm480-docker-qemu-gl-compile-shader-glsl-es-300-unsupported.log", ["host-gl-unusable"]),
    (EXTRA / "134-gentoorpi54-rpi-vc4-host-virtio-gpu-virgl-gtk-gl-glsl-es-300.log", ["host-gl-unusable"]),
    (EXTRA / "135-quickemu1449-gentoo-qemu902-virtio-vga-gl-not-a-valid-device-model.log", ["qemu-without-gl-device"]),
    (EXTRA / "136-codeindex-libvirt-seccomp-spawn-deny-blocks-venus-render-server.log", ["render-server-spawn-denied"]),
    (EXTRA / "138-codeindex-debian13-rpi400-kvm-venus-on-requires-blob-hostmem.log", ["qemu-venus-options"]),
    (EXTRA / "140-dockerosx55-mint-qemu-kvm-permission-denied.log", ["no-kvm"]),
    (EXTRA / "141-dockertopo25-libvirt-qemuProcessReportLogError-kvm-permission-denied.log", ["no-kvm"]),
    (EXTRA / "148-lima4137-krunkit-ubuntu-vulkaninfo-renderD128-permission-denied-all-icds.log", ["render-node-denied"]),
    (EXTRA / "153-muvm99-lxc-krun-start-enter-kvm-object-panic.log", ["no-kvm"]),
    (EXTRA / "156-utm2735-qemu-virgl-angle-es3-no-glDrawElementsBaseVertex-abort.log", ["host-gl-unusable"]),
    (EXTRA / "161-androidriscv64-85-cuttlefish-qemu-riscv64-egl-no-drm-render-node.log", ["host-gl-unusable"]),
    (EXTRA / "166-termux14517-android-adreno-vtest-virgl-glxgears-illegal-shader-fsout-location.log",
     ["virgl-gl-context-error"]),
    (EXTRA / "171-libvirt93-ubuntu-qemu-gtk-gl-on-egl-eglGetDisplay-failed-opengl-not-supported.log",
     ["host-gl-unusable"]),
    (EXTRA / "172-virtmanager396-fedora36-nvidia-spice-gl-eglInitialize-failed-traceback.log", ["host-gl-unusable"]),
    (EXTRA / "174-qubes7107-archlinux-hvm-guest-vulkaninfo-incompatible-driver-no-virtio-gpu.log",
     ["no-vulkan-driver"]),
    (EXTRA / "176-sdl4986-macos-hvf-qemu-sdl-gl-virgl-gnome-shell-create-object-context-error.log",
     ["virgl-gl-context-error"]),
    (EXTRA / "177-asteroid70-fedora27-qemu-virtio-vga-virgl-illegal-command-buffer.log", ["virgl-gl-context-error"]),
    (EXTRA / "178-maconlinux32-qemu7-virtio-vga-gl-plus-vga-std-surface-gl-update-texture-assert.log",
     ["vmm-assertion-failed"]),
    (EXTRA / "179-gvtlinux81-arch-libvirt-dmabuf-egl-no-drm-render-node-available.log", ["host-gl-unusable"]),
    (EXTRA / "180-gvtlinux227-ubuntu2004-virtmanager-mdev-display-on-vfio-display-dmabuf-opengl-not-available.log",
     ["host-gl-unusable"]),
    (EXTRA / "181-arehnman20-desc-win-guest-viogpu3d-host-vrend-draw-vbo-illegal-command-buffer.log",
     ["virgl-gl-context-error"]),
    (EXTRA / "183-termux15566-qemu-system-x86-64-opengl-support-is-disabled.log", ["host-gl-unusable"]),
    (EXTRA / "190-smolvm369-gpu-flag-no-dev-dri-libkrun-without-virgl.log", ["no-drm-device"]),
    (EXTRA / "191-smolvm317-libkrun-load-libvirglrenderer-so1-missing.log", ["library-not-found"]),
    (EXTRA / "192-smolvm729-guest-kernel-config-drm-not-set-no-dev-dri.log", ["no-drm-device"]),
    (EXTRA / "187-codeindex-nixos-qemu-venus-render-server-no-libvulkan-createinstance-oohm.log",
     ["render-server-no-libvulkan"]),
]


def test_a_primary_node_denied_to_another_drivers_probe_is_not_the_render_node():
    """57: Asahi's native-context probe cannot open /dev/dri/card0 while Venus runs on the render node."""
    findings = diagnose(fold_files([str(EXTRA / "57-codeindex-krunkit-fedora44-venus-ok-then-oohm-card0-denied-noise.log")]))
    assert "render-node-denied" not in {f.rule for f in findings}


@pytest.mark.parametrize(("path", "causes"), CAUSES, ids=[p.name[:40] for p, _ in CAUSES])
def test_each_real_thread_gives_its_maintainers_cause_first(path, causes):
    findings = diagnose(fold_files([str(path)]))
    assert findings and findings[0].rule == causes[0], [(f.rule, f.confidence) for f in findings]
    assert set(causes) <= {f.rule for f in findings}
    top = findings[0]
    assert top.evidence and all(e.line for e in top.evidence)  # evidence with its line number in the file


@pytest.mark.parametrize("path", [REAL / "16-lima-krunkit-fedora-vulkaninfo-panvk-icd-noise.log",
                                  EXTRA / "16-podmandesktop19202-libkrun-m1pro-venus-ok.log",
                                  EXTRA / "13-vulkanstream2-krunkit-vulkaninfo-summary-venus-m1.log",
                                  EXTRA / "19-blog-crostini-pixelbookgo-venus-vulkaninfo-surface-lost.log",
                                  EXTRA / "53-krunkit32-virtio-mmio-reset-warn.log",
                                  EXTRA / "54-ramalama270-podman-libkrun-ggml-venus-m1pro.log",
                                  EXTRA / "68-limina-hvf-state-spike-HV_SUCCESS-and-HV_UNSUPPORTED.log",
                                  # Venus works; the native-context ICD asked for by name fails (not "no driver")
                                  EXTRA / "70-cang-libkrun-venus-ok-radv-native-context-vdrm-connect-failed.log",
                                  EXTRA / "137-codeindex-qemu11-virtio-vga-gl-venus-drm-nctx-rx7600-working-probe.log",
                                  EXTRA / "143-waydroidnvidianix-readme-surfaceflinger-gles-angle-venus-rtx4060ti-ok.log",
                                  EXTRA / "146-k8smac-kind-krunkit-pod-vulkaninfo-venus-m2-plus-llvmpipe.log",
                                  EXTRA / "147-zenn-podman-libkrun-m2-dri-vulkaninfo-llama-venus-ok.log",
                                  EXTRA / "150-aikit-podman-libkrun-localai-grpc-ggml-vulkan-venus-m1max-ok.log",
                                  EXTRA / "173-virtmanager228-fedora33-host-guest-glxinfo-virgl-renderer-choppy-ok.log",
                                  # hv_vm_map refusals a runtime falls back from (not a VM's failure)
                                  EXTRA / "155-elfuse-hvf-hv-vm-map-85377021-slab-fallback-benign.log"],
                         ids=lambda p: p.name[:40])
def test_working_setups_raise_nothing_above_info(path):
    findings = diagnose(fold_files([str(path)]))
    assert all(f.severity == "info" for f in findings), [(f.rule, f.severity) for f in findings]


def test_a_lab_shaped_nvidia_guest_log_with_a_silent_host_names_virglrenderer_older_than_1_2(tmp_path):
    """Synthetic (labelled): the lab's guest shape on an NVIDIA host, as VENUS_FACTS.md describes the class."""
    guest = tmp_path / "guest.log"
    guest.write_text("MESA-VIRTIO: debug: vn_env is as below:\n\tdebug = 0x7\n\tperf = 0x0\n"
                     "MESA-VIRTIO: debug: connected to renderer\n1. Instance OK\n"
                     "2. PhysDev OK Virtio-GPU Venus (NVIDIA H100 80GB HBM3)\n"
                     "MESA-VIRTIO: debug: vn_CreateDevice: VK_ERROR_INITIALIZATION_FAILED\n3. Device: FAILED -3\n")
    host = tmp_path / "host.log"
    host.write_text("proxy: proxy server with pid 30061\n")
    findings = diagnose(fold_files([str(guest), str(host)]))
    top = findings[0]
    assert top.rule == "nvidia-virglrenderer-preload" and top.confidence == "likely"
    assert "older than 1.2" in top.claim and "NVIDIA" in top.claim and "inspect --render-server" in top.next_step
    known = diagnose(fold_files([str(guest), str(host)]), {"virglrenderer": "1.1.0"})[0]
    assert known.rule == "nvidia-virglrenderer-preload" and known.confidence == "confirmed"
    newer = diagnose(fold_files([str(guest), str(host)]), {"virglrenderer": "1.3.0"})
    assert "nvidia-virglrenderer-preload" not in {f.rule for f in newer}  # ruled out by the version


def test_diagnose_cli_reads_stdin_and_folders_and_says_by_its_exit_status():
    paste = (REAL / "08-krunkit-hvf-map_memory-err-createFence-OutOfHostMemory.log").read_bytes()
    out = run_cli("diagnose", "-", input=paste)
    assert out.returncode == 1, out.stderr
    text = out.stdout.decode()
    assert text.startswith("── findings") and "TOP CRITICAL (confirmed)" in text and "HV_BAD_ARGUMENT" in text
    assert "stdin:" in text and "references: libkrun issue 353" in text
    folder = run_cli("diagnose", str(DATA / "real-threads"))
    assert folder.returncode == 1 and b"import-not-exportable" not in folder.stderr
    benign = run_cli("diagnose", str(REAL / "16-lima-krunkit-fedora-vulkaninfo-panvk-icd-noise.log"))
    assert benign.returncode == 0, benign.stdout
    # nothing wrong is not nothing understood: the devices the logs name are said
    working = run_cli("diagnose", str(EXTRA / "13-vulkanstream2-krunkit-vulkaninfo-summary-venus-m1.log"))
    assert working.returncode == 0 and working.stdout.decode().startswith("no finding")
    assert "the Vulkan device they name: Virtio-GPU Venus (Apple M1)" in working.stdout.decode()
    missing = run_cli("diagnose", "/nonexistent/log")
    assert missing.returncode == 2 and missing.stderr.count(b"\n") == 1 and b"Traceback" not in missing.stderr


def test_diagnose_json_markdown_and_redact(tmp_path):
    log = tmp_path / "paste.log"
    log.write_text("alice@workbox:~$ vulkaninfo\n"
                   "Nov 26 10:33:02 workbox krunkit[812]: [ERROR hvf] map_memory: err -85377021\n"
                   "/home/alice/llama.cpp/build/bin/llama-server: vk::Device::createFence: ErrorOutOfHostMemory\n"
                   "evil `code` | *markdown* [link](http://x) <b>html</b>\n")
    as_json = json.loads(run_cli("diagnose", "--json", str(log)).stdout)
    top = as_json["findings"][0]
    assert top["rule"] == "hvf-16k-granularity" and top["confidence"] in ("likely", "confirmed")
    assert top["evidence"][0]["line"] == 2 and "references" in top and "details" in top
    markdown = run_cli("diagnose", "--markdown", "--redact", str(log)).stdout.decode()
    assert "### Top finding" in markdown and "alice" not in markdown and "workbox" not in markdown
    assert "user1" in markdown and "host1" in markdown
    assert "<b>" not in markdown.replace("`", "")  # log text stays literal (in code spans) in Markdown


def test_a_log_saved_by_powershell_gives_the_same_findings(tmp_path):
    """A Windows user's `qemu-system-x86_64.exe … 2> qemu.txt` in PowerShell writes UTF-16 with CRLF."""
    path = EXTRA / "09-msys2-28875-qemu-whpx-venus-on-no-render-server.log"
    saved = tmp_path / "qemu.txt"
    saved.write_bytes(codecs.BOM_UTF16_LE + path.read_text(encoding="utf-8").replace("\n", "\r\n").encode("utf-16-le"))
    assert [f.rule for f in diagnose(fold_files([str(saved)]))] == [f.rule for f in diagnose(fold_files([str(path)]))]
    assert diagnose(fold_files([str(saved)]))[0].rule == "no-render-server"
