# ecrpush: build, test and demo. `make deps` once on a fresh Debian/Ubuntu machine (as root, or with sudo).
SWIFT ?= swift
# The Swift runtime linked in: a binary that runs without a toolchain, and starts faster (no runtime to resolve).
RELEASE_FLAGS ?= -c release --static-swift-stdlib
PREFIX ?= /usr/local
APT_PACKAGES = libcurl4-openssl-dev libssl-dev zlib1g-dev libdeflate-dev libzstd-dev pkg-config \
               docker.io docker-registry apache2-utils busybox-static skopeo amazon-ecr-credential-helper zstd openssl curl openssh-client podman iproute2
PIP_PACKAGES = moto[server]==5.2.1 boto3 awscli
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test test-quick lint format install uninstall demo bench clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@python3 -c "import moto.server, boto3, flask" 2>/dev/null && command -v aws >/dev/null || \
	  python3 -m pip install -q $(PIP_PACKAGES)

build:
	$(SWIFT) build $(RELEASE_FLAGS)

# Unit and integration tests. Integration tests start their own moto, registry and dockerd on loopback.
test: lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The inner loop: every test that needs no moto, registry or dockerd (those are reported as cancelled).
test-quick:
	$(SWIFT) build --build-tests
	ECRPUSH_SKIP_LIVE_TESTS=1 $(SWIFT) test --skip-build

# Package.swift declares exactly what each target imports; the code is as swift-format (.swift-format) leaves it.
lint:
	python3 tools/check_package_imports.py
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests

format:
	$(SWIFT) format --in-place --recursive --parallel Package.swift Sources Tests

# Also shell completions (bash, zsh, fish) and the man page, generated from the command definitions.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ecrpush" $(DESTDIR)$(PREFIX)/bin/ecrpush
	ln -sf ecrpush $(DESTDIR)$(PREFIX)/bin/docker-credential-ecrpush
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d $(DESTDIR)$(PREFIX)/share/man/man1
	$(DESTDIR)$(PREFIX)/bin/ecrpush --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ecrpush
	$(DESTDIR)$(PREFIX)/bin/ecrpush --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ecrpush
	$(DESTDIR)$(PREFIX)/bin/ecrpush --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ecrpush.fish
	python3 tools/gen-manpage.py $(DESTDIR)$(PREFIX)/bin/ecrpush $(DESTDIR)$(PREFIX)/share/man/man1/ecrpush.1
	chmod 0644 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ecrpush $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ecrpush \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ecrpush.fish $(DESTDIR)$(PREFIX)/share/man/man1/ecrpush.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ecrpush $(DESTDIR)$(PREFIX)/bin/docker-credential-ecrpush
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ecrpush $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ecrpush \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ecrpush.fish $(DESTDIR)$(PREFIX)/share/man/man1/ecrpush.1

# The containerise.py flow end to end on a loopback world (moto + registry + a private dockerd).
demo:
	$(SWIFT) build $(RELEASE_FLAGS)
	tools/demo.sh "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ecrpush"

# Benchmarks print figures; they are not tests. Only the ecrpush product is built (the test helpers are not needed).
# bench_everyday.py (fresh CI runners, docker push against ecrpush push) takes 15-20 minutes.
bench:
	$(SWIFT) build $(RELEASE_FLAGS) --product ecrpush
	python3 tools/bench_login.py "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ecrpush"
	python3 tools/bench_push.py "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ecrpush"
	python3 tools/bench_everyday.py "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ecrpush"

clean:
	rm -rf .build
