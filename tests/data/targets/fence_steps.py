"""A guest test program that hangs in step 5 unless VN_PERF holds no_fence_feedback (synthetic)."""

import os
import signal
import subprocess
import sys
import time

marker = sys.argv[1] if len(sys.argv) > 1 else "venustui-test"
for line in ("1. Instance OK", "2. PhysDev OK", "3. Device OK", "4. Queue OK"):
    print(line, flush=True)
if "no_fence_feedback" in os.environ.get("VN_PERF", "").split(","):
    for line in ("5. Fence created", "6. Submit: 0  (VK_SUCCESS)", "7. Status: 1  (VK_NOT_READY)", "8. Wait: 0"):
        print(line, flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "time.sleep(600)", marker])
while True:  # spins like a guest reading a dead socket
    time.monotonic()
