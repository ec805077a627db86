"""The Vulkan probe (its own process) and the runner that starts, watches and classifies targets."""
