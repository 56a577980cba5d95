.PHONY: test-python
test-python: sim
	@echo "python: not yet built (issue 5)"
