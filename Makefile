# Everyday verbs; the README's two commands stay the source of truth.
.PHONY: build test sample samples rules lint

build:
	swift build

test:
	swift test

# The README's first command: scan the bundled sample archive.
sample:
	swift run rolewatch scan Samples/AWSLogs --config Samples/rolewatch.yaml

# Regenerate Samples/ (archive and expected alerts) after changing the generator or a rule.
samples:
	rm -rf Samples/AWSLogs
	swift run rolewatch generate Samples
	swift run rolewatch scan Samples/AWSLogs --config Samples/rolewatch.yaml --no-progress > Samples/expected-alerts.ndjson

# Re-embed rules/*.yaml into the binary after editing them.
rules:
	./scripts/embed-rules.sh

lint:
	swift format lint --recursive Sources Tests
