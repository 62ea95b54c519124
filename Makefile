# shouye — the front door. `make run` and `make test` set up everything on a fresh machine.
DB ?= var/shouye.db
LISTEN ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 20

.PHONY: all deps build release run test bench fuzz clean format

all: build

deps:
	@scripts/deps.sh

build: deps
	@[ -f build/build.ninja ] || meson setup build -Db_sanitize=address,undefined -Db_lundef=false
	@ninja -C build

release: deps
	@[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release
	@ninja -C build-release

run: release
	@mkdir -p $(dir $(DB))
	@fresh=0; [ -e "$(DB)" ] || fresh=1; \
	./build-release/shouye init --db "$(DB)" && \
	if [ $$fresh = 1 ]; then ./build-release/shouye demo --db "$(DB)" --subscribers 5000; fi
	@echo ""
	@echo "  守夜 shouye is starting at http://$(LISTEN)"
	@echo "  demo logins (password shouye-demo): agent1 agent2 (一线) specialist1 specialist2 (二线)"
	@echo "  engineer1 supervisor1 qa1 integration1; admin: \$$SHOUYE_ADMIN_PASSWORD or the password printed at init"
	@echo ""
	@exec ./build-release/shouye serve --db "$(DB)" --listen "$(LISTEN)"

test: build
	@scripts/test.sh

bench: release
	@bench/run.sh

fuzz: deps
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link
	@ninja -C build-fuzz tests/fuzz/fuzz_request
	@mkdir -p tests/fuzz/corpus
	@./build-fuzz/tests/fuzz/fuzz_request -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
		-print_final_stats=1 tests/fuzz/corpus tests/fuzz/seeds

format:
	@clang-format -i src/*.c src/*.h src/*/*.c src/*/*.h tests/unit/*.c

clean:
	@rm -rf build build-release build-fuzz
