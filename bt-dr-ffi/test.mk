.PHONY: test-c
test-c: sim
	@echo "c: not yet built (issue 7)"
