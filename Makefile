# shouye — the front door. `make run` and `make test` set up everything on a fresh machine.
DB ?= var/shouye.db
LISTEN ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 20

.PHONY: all deps build release web run test bench fuzz clean format

all: build

deps:
	@scripts/deps.sh

build: deps web
	@[ -f build/build.ninja ] || meson setup build -Db_sanitize=address,undefined -Db_lundef=false
	@ninja -C build

# the browser app, built by Vite into web/dist (served by shouye); deps ran `npm ci` from the
# lockfile (vite is held at 8.3.x: 8.4 names an optional Windows-only package this registry
# lacks, and `npm ci` then refuses the lockfile)
web: deps
	@cd web && npx vite build --logLevel warn

release: deps web
	@[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release
	@ninja -C build-release

# demo data only into a new store: a SQLite file that did not exist, or a PostgreSQL database
# without tables
run: release
	@case "$(DB)" in \
	postgres://*|postgresql://*) \
	  n=$$(psql -XAtq "$(DB)" -c "select count(*) from information_schema.tables where table_schema = 'public'") \
	    || { echo "run: cannot reach $(DB)" >&2; exit 1; }; \
	  fresh=0; [ "$$n" != 0 ] || fresh=1 ;; \
	*) mkdir -p "$$(dirname "$(DB)")"; fresh=0; [ -e "$(DB)" ] || fresh=1 ;; \
	esac; \
	./build-release/shouye init --db "$(DB)" && \
	if [ $$fresh = 1 ]; then ./build-release/shouye demo --db "$(DB)" --subscribers 5000 --tickets 20000; fi
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
		-print_final_stats=1 tests/fuzz/corpus $(wildcard tests/fuzz/seeds)

format:
	@find src tests/unit -name '*.[ch]' -print0 2>/dev/null | xargs -0 -r clang-format -i

clean:
	@rm -rf build build-release build-fuzz
