"""What the agents call: toolchain detection, build recipes, test harnesses, timing, profiling."""
