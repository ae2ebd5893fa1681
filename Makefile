# Front door of the harness.  Every target runs as root inside the
# toolchain root made by `make setup`; see README.md.
SHELL := /bin/bash
S := scripts

.PHONY: all setup import export verify-export check run selftest base-results bench clean help
all: help

help:
	@echo "make setup          toolchain root (debootstrap trixie + QEMU 11) and the verified base"
	@echo "make import         base + series in build/linux (FORCE=1 to discard unexported work)"
	@echo "make export         build/linux commits base..HEAD -> patches/"
	@echo "make verify-export  fail when patches/ and build/linux disagree"
	@echo "make check          every gate and test on a clean copy of base + series"
	@echo "make run            the main job: boot the patched kernel under QEMU and show it"
	@echo "make selftest       the harness's own tests (part of make check)"
	@echo "make base-results   the base's results that make check compares with (results/base/)"
	@echo "make bench          dma_map_benchmark through an SMMUv3, stock base against the series"

setup:
	@$(S)/setup.sh

import: setup
	@$(S)/import.sh

export:
	@$(S)/export.sh

verify-export:
	@$(S)/export.sh --verify

check: setup
	@$(S)/check.sh

run: setup
	@$(S)/run.sh

selftest: setup
	@$(S)/selftest.sh

base-results: setup
	@$(S)/base-results.sh

bench: setup
	@$(S)/bench.sh

clean:
	rm -rf build
