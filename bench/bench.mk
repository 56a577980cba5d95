.PHONY: bench bench-smoke
bench:
	@echo "benchmarks: not yet built (issue 8)"
bench-smoke:
	@true
