# Everyday verbs; the README's two commands stay the source of truth.
.PHONY: build test sample sample-report sample-hunt samples rules lint asn-fixture

build:
	swift build

test:
	swift test

# The README's first command: scan the bundled sample archive.
sample:
	swift run rolewatch scan Samples/AWSLogs --config Samples/rolewatch.yaml

# The sample day's report as one HTML page (and as a PNG when Chromium is installed).
sample-report:
	swift run rolewatch report Samples/AWSLogs --config Samples/rolewatch.yaml --date 2025-11-20 --format html --output .build/sample-report.html
	if command -v chromium >/dev/null; then ./scripts/render-report-png.sh .build/sample-report.html docs/report-example.png --width 1100 --height 2400; fi

# The README's walkthrough (Investigating): the sessions used from the sample day's home
# address, one HTML report per affected account.
sample-hunt:
	swift run rolewatch hunt Samples/AWSLogs --source-ip 198.51.100.23 --alerts Samples/expected-alerts.ndjson --format html --split-by account --output .build/sample-hunt

# Regenerate Samples/ (archive and expected alerts, and the sample IAM exports' expected
# findings) after changing the generator, a rule or an audit check.
samples:
	rm -rf Samples/AWSLogs
	swift run rolewatch generate Samples
	swift run rolewatch scan Samples/AWSLogs --config Samples/rolewatch.yaml --no-progress > Samples/expected-alerts.ndjson
	swift run rolewatch audit Samples/iam/*.json --config Samples/iam/rolewatch.yaml --now 2025-11-20 > Samples/iam/expected-findings.ndjson

# Re-embed rules/*.yaml into the binary after editing them.
rules:
	./scripts/embed-rules.sh

lint:
	swift format lint --recursive Sources Tests

# Rewrite Tests/Fixtures/asn-test.mmdb (the ASN tests' tiny MaxMind DB) from scripts/make-asn-fixture.py.
asn-fixture:
	python3 -m venv .build/mmdb-venv
	.build/mmdb-venv/bin/pip install -q mmdb-writer netaddr
	.build/mmdb-venv/bin/python scripts/make-asn-fixture.py
