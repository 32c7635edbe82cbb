# ecrpush: build, test and demo. `make deps` once on a fresh Debian/Ubuntu machine (as root, or with sudo).
SWIFT ?= swift
# The Swift runtime linked in: a binary that runs without a toolchain, and starts faster (no runtime to resolve).
RELEASE_FLAGS ?= -c release --static-swift-stdlib
PREFIX ?= /usr/local
APT_PACKAGES = libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config \
               docker.io docker-registry apache2-utils busybox-static skopeo amazon-ecr-credential-helper
PIP_PACKAGES = moto[server]==5.2.1 boto3 awscli
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test install uninstall demo bench clean

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
test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ecrpush" $(DESTDIR)$(PREFIX)/bin/ecrpush
	ln -sf ecrpush $(DESTDIR)$(PREFIX)/bin/docker-credential-ecrpush

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ecrpush $(DESTDIR)$(PREFIX)/bin/docker-credential-ecrpush

# The containerise.py flow end to end on a loopback world (moto + registry + a private dockerd).
demo:
	$(SWIFT) build $(RELEASE_FLAGS)
	tools/demo.sh "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ecrpush"

# Benchmarks print figures; they are not tests.
bench:
	$(SWIFT) build $(RELEASE_FLAGS)
	python3 tools/bench_login.py "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/ecrpush"

clean:
	rm -rf .build
