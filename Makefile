# vlapbench — one plain Makefile driven by pkg-config.
#   make            build ./vlapbench (release, -O2)
#   make test       install missing Debian packages, build, run every test (tests/run.sh)
#   make test-asan  the same tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make test-isa   the same tests as the CPU classes this one can stand in for (VB_CPU_DISABLE: Zen 4/5, Zen 3)
#   make test-valgrind  the cmocka programs and main CLI paths under valgrind memcheck (build-vg/); a visible SKIP
#                   where valgrind cannot run on this CPU (SIGILL under valgrind; see the target)
#   make bench      engine speed per component (bench-engine) on the demo model shape
#   make debug      -O0 -g build in build-debug/
#   make demo       install, build, run the bundled default benchmark and write demo-out/report.*
#   make WERROR=1   treat warnings as errors
# Build goals first check the pkg-config modules and name the missing Debian packages (make deps installs them).
# BUILD=dir puts objects elsewhere (parallel builds of one tree do not collide).

BUILD   ?= build
PKGS    := openblas libavformat libavcodec libswscale libavutil sqlite3 libcjson libutf8proc libcrypto
TESTPKG := cmocka
CC      ?= cc
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY  := $(shell test -n "$$(git status --porcelain --untracked-files=no 2>/dev/null)" && echo 1 || echo 0)

# Up-front dependency check (build goals only): without it a machine lacking the -dev packages stops at the first
# missing header (cjson/cJSON.h: No such file).  Goals that install first (deps, test, test-asan, test-isa,
# test-valgrind, demo: they run scripts/install-deps.sh, then build in a sub-make that checks) and goals that build
# nothing (clean, format, format-check) skip it.  The module -> Debian package map is scripts/install-deps.sh's.
PKG_DEBS := openblas:libopenblas-dev libavformat:libavformat-dev libavcodec:libavcodec-dev \
            libswscale:libswscale-dev libavutil:libavutil-dev sqlite3:libsqlite3-dev libcjson:libcjson-dev \
            libutf8proc:libutf8proc-dev
NOCHECK_GOALS := deps test test-asan test-isa test-valgrind demo clean format format-check
CHECK_GOALS := $(filter-out $(NOCHECK_GOALS),$(or $(MAKECMDGOALS),all))
ifneq ($(CHECK_GOALS),)
ifneq ($(filter tests-build %/tests/% test_%,$(CHECK_GOALS)),)
PKG_DEBS += cmocka:libcmocka-dev
endif
pc_mod = $(word 1,$(subst :, ,$(1)))
pc_deb = $(word 2,$(subst :, ,$(1)))
MISSING_DEBS := $(shell command -v pkg-config >/dev/null 2>&1 || echo pkg-config) \
                $(shell command -v $(firstword $(CC)) >/dev/null 2>&1 || echo gcc) \
                $(foreach p,$(PKG_DEBS),$(if $(shell pkg-config --exists $(call pc_mod,$(p)) 2>/dev/null && echo y),,$(call pc_deb,$(p))))
ifneq ($(strip $(MISSING_DEBS)),)
$(info vlapbench: missing build dependencies; Debian packages to install: $(sort $(MISSING_DEBS)))
$(info vlapbench: `make deps` installs them (apt-get, with sudo when not root); `make demo` and `make test` install them first too.)
$(error missing Debian packages: $(sort $(MISSING_DEBS)))
endif
endif

OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -I. -pthread $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
BUILD_FLAGS_STR := $(CC) $(CFLAGS)
CPPDEFS := -DVB_GIT_COMMIT=\"$(GIT_COMMIT)\" -DVB_GIT_DIRTY=$(GIT_DIRTY) -DVB_BUILD_FLAGS="\"$(OPT) $(SAN)\""
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread
CFLAGS  += $(SAN)
LDFLAGS += $(SAN)

SRC_DIRS := base engine datasets methods vlap baselines harness metrics results reports
SRCS     := $(wildcard $(addsuffix /*.c,$(SRC_DIRS)))
MAIN_SRC := harness/main.c
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(MAIN_SRC),$(SRCS)))
MAIN_OBJ := $(BUILD)/harness/main.o
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
BIN      := $(BUILD)/vlapbench

# ---- CUDA backend (engine/cuda/, docs/cuda.md) -------------------------------------------------------------------
# make CUDA=1: build it (nvcc required); make CUDA=0: leave it out (engine/cuda/none.c answers "not built"); default:
# built when nvcc is found (PATH, else $(CUDA_HOME)/bin).  Kernels: sm_90 machine code (H100/H200) + compute_80 PTX
# (JIT on other GPUs from sm_80 up; NVCC_GENCODE overrides).  cudart is linked statically; cuBLASLt is dlopen'ed at the
# first CUDA context, so the binary starts as fast as before and runs (CPU only) where no CUDA library is installed.
CUDA_HOME    ?= /usr/local/cuda
ifeq ($(origin NVCC),undefined)
NVCC         := $(shell command -v nvcc 2>/dev/null || { test -x $(CUDA_HOME)/bin/nvcc && echo $(CUDA_HOME)/bin/nvcc; })
endif
ifeq ($(origin CUDA),undefined)
CUDA         := $(if $(NVCC),1,0)
endif
NVCC_GENCODE ?= -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=compute_80
CUDA_STAMP   := $(BUILD)/cuda.stamp
$(CUDA_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CUDA) $(NVCC_GENCODE)' > $@.tmp; cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
ifeq ($(CUDA),1)
ifeq ($(NVCC),)
$(error CUDA=1 but nvcc was not found (PATH, $(CUDA_HOME)/bin))
endif
CUDA_C_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(filter-out engine/cuda/none.c,$(wildcard engine/cuda/*.c)))
CUDA_CU_OBJS := $(patsubst %.cu,$(BUILD)/%.cu.o,$(wildcard engine/cuda/*.cu))
$(CUDA_C_OBJS): CFLAGS += -isystem $(CUDA_HOME)/include -DVB_CUDA_LIBDIR=\"$(CUDA_HOME)/lib64\"
$(CUDA_C_OBJS) $(CUDA_CU_OBJS): $(CUDA_STAMP)
$(BUILD)/engine/cuda/%.cu.o: engine/cuda/%.cu engine/cuda/kernels.h
	@mkdir -p $(dir $@)
	$(NVCC) -O2 -std=c++17 -I. $(NVCC_GENCODE) -Xcompiler -Wall,-Wextra -c -o $@ $<
LIB_OBJS     += $(CUDA_C_OBJS) $(CUDA_CU_OBJS)
LDLIBS       += -L$(CUDA_HOME)/lib64 -lcudart_static -ldl -lrt -lstdc++
else
LIB_OBJS     += $(BUILD)/engine/cuda/none.o $(BUILD)/engine/cuda/unpack.o
$(BUILD)/engine/cuda/none.o $(BUILD)/engine/cuda/unpack.o: $(CUDA_STAMP)
endif
# ---- end of the CUDA block -----------------------------------------------------------------------------------------

.DEFAULT_GOAL := all
.PHONY: all deps test test-asan test-isa test-valgrind debug demo clean bench format format-check FORCE

# The files that compile the commit / dirty flag / build flags in are rebuilt whenever those change (the stamp is
# rewritten only when its content differs, so nothing else rebuilds).
VERSION_STAMP := $(BUILD)/version.stamp
$(VERSION_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(GIT_COMMIT) $(GIT_DIRTY) $(OPT) $(SAN)' > $@.tmp; cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp
$(BUILD)/harness/cli.o $(BUILD)/harness/runner_setup.o: $(VERSION_STAMP)
all: $(BIN) vlapbench

vlapbench: $(BIN)
	@if [ "$(BUILD)" = "build" ]; then ln -sf $(BIN) vlapbench; fi

$(BIN): $(LIB_OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPDEFS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPDEFS) $(shell pkg-config --cflags $(TESTPKG)) -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs $(TESTPKG))

deps:
	@bash scripts/install-deps.sh

tests-build: $(BIN) $(TEST_BINS)

test: deps
	@$(MAKE) --no-print-directory tests-build
	@VB_BIN=$(abspath $(BIN)) VB_BUILD=$(abspath $(BUILD)) bash tests/run.sh

test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1" SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" tests-build
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 VB_BIN=$(abspath build-asan/vlapbench) VB_BUILD=$(abspath build-asan) VB_SANITIZED=1 bash tests/run.sh

# the same tests once more for each CPU class this machine can stand in for (VB_CPU_DISABLE, engine/cpu.h): an AMX
# Xeon also runs them as an AVX-512 + BF16 CPU without AMX (Zen 4 / Zen 5) and as an AVX2-only one (Zen 3); a class
# it cannot stand in for is one visible SKIP line (tests/run_isa.sh)
test-isa: deps
	@$(MAKE) --no-print-directory tests-build
	@VB_BIN=$(abspath $(BIN)) VB_BUILD=$(abspath $(BUILD)) bash tests/run_isa.sh

debug:
	@$(MAKE) --no-print-directory BUILD=build-debug OPT="-O0"

demo: deps
	@$(MAKE) --no-print-directory all
	@VB_BIN=$(abspath $(BIN)) bash scripts/demo.sh

bench: $(BIN)
	$(BIN) bench-engine --config configs/demo-blip2.json --layers 2 --reps 3

# memcheck over every cmocka program and the main CLI paths (scripts/valgrind-*.sh); installs valgrind when missing.
# First scripts/valgrind-probe.sh runs valgrind on `vlapbench version`.  Where valgrind cannot run on this CPU (the
# program dies with SIGILL under it: e.g. on AVX-512 AMD Zen 4 / Zen 5, libjxl's libhwy, linked through FFmpeg,
# executes instructions valgrind 3.19 does not decode), the target prints ONE message naming the reason (the
# instruction bytes, the library, the CPU) as a SKIP and exits 0 -- as the tests treat an instruction set they cannot
# use: a visible skip, not a failure; nothing was memchecked, so use `make test-asan` there.  Any other valgrind
# failure fails the target.
test-valgrind:
	@VB_EXTRA_PKGS=valgrind bash scripts/install-deps.sh
	@$(MAKE) --no-print-directory BUILD=build-vg OPT=-O1 tests-build
	@bash scripts/valgrind-probe.sh $(abspath build-vg/vlapbench); rc=$$?; \
	  if [ $$rc -eq 77 ]; then echo "make test-valgrind: skipped (see above)"; exit 0; fi; [ $$rc -eq 0 ] || exit $$rc; \
	  VB_VG_PROBED=1 VB_BUILD=$(abspath build-vg) bash scripts/valgrind-tests.sh && \
	  VB_VG_PROBED=1 VB_BIN=$(abspath build-vg/vlapbench) bash scripts/valgrind-cli.sh

# the repository's .clang-format over every tracked C file (format-check is also a test: tests/test_format.sh)
format:
	git ls-files '*.c' '*.h' | xargs clang-format -i
format-check:
	@VB_ROOT=$(CURDIR) bash tests/test_format.sh

clean:
	rm -rf build build-asan build-debug build-vg vlapbench

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)

# ---- fuzzing (issue 17): the libFuzzer harnesses tests/fuzz/fuzz_*.c (safetensors reader, annotation loaders, both
# tokenizers, config.json), built with clang -fsanitize=fuzzer,address,undefined into build-fuzz/ (the library
# compiled with coverage instrumentation).  Run one: build-fuzz/fuzz_loaders -max_total_time=600 tests/fuzz/corpus/loaders
# (tests/test_fuzz_smoke.sh runs each briefly in `make test` when clang and libFuzzer are present).
FUZZ_CC   ?= clang
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
.PHONY: fuzz fuzz-bins
fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) OPT="-O1 -gline-tables-only" \
	  SAN="-fsanitize=address,undefined -fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  fuzz-bins
ifeq ($(BUILD),build-fuzz)
# clang 14 does not know every feature name the CPU dispatch asks __builtin_cpu_supports for ("f16c"): in this build,
# which multiplies no matrices, every CPU-feature query of the library answers 0 (the portable kernels); the
# attention's AVX-512 kernel, which such a build never calls, is left out (engine/attn_small.c: 5 minutes of clang
# -O1 with the sanitizers on its unrolled intrinsics, most of test_fuzz_smoke's time in a fresh clone)
$(LIB_OBJS): CFLAGS += -D'__builtin_cpu_supports(x)=0' -DVB_NO_AVX512_ATTN
endif
fuzz-bins: $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRCS))
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(LIB_OBJS)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(LDLIBS)
