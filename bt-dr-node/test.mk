.PHONY: test-node
test-node: sim
	@echo "node: not yet built (issue 6)"
