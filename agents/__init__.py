"""The LangGraph agent graph (planner, coder, tester, profiler, report) and its entry points."""
