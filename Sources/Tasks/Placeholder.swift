// Task metrics.
