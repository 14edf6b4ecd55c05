"""The built-in world for the demo, tests and benchmarks: a carrier server on 127.0.0.1,
scripted timelines, and notification sinks."""
