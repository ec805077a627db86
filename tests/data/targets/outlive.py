"""Exits at once, leaving a child behind that ignores SIGTERM (synthetic)."""

import subprocess
import sys

marker = sys.argv[1] if len(sys.argv) > 1 else "venustui-test"
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "time.sleep(600)", marker], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("parent done", flush=True)
