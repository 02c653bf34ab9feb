#!/usr/bin/env python3
"""Writes Tests/Fixtures/asn-test.mmdb: a tiny MaxMind DB for RoleWatch's ASN tests.

The tests read the committed file, so they need neither Python nor a real GeoLite2 or DB-IP
database. Run this only to change the fixture, then commit the new file:

    python3 -m venv .build/mmdb-venv
    .build/mmdb-venv/bin/pip install mmdb-writer netaddr
    .build/mmdb-venv/bin/python scripts/make-asn-fixture.py

(or `make asn-fixture`). The networks are the documentation ranges (RFC 5737, RFC 3849), plus
the AWS prefix the sample archive's ip-ranges.json lists, so that a test can tell that an
address inside AWS is left alone although the database knows it. The records have the shapes
the real databases give: GeoLite2-ASN and DB-IP ASN Lite (number and organisation only),
GeoLite2-City or DB-IP combined (with `country`), and one with `registered_country` only.
"""
import os
import sys

from mmdb_writer import MMDBWriter, MmdbU32
from netaddr import IPSet

# (networks, record): the ASN as uint32, as GeoLite2-ASN stores it.
NETWORKS = [
    (["203.0.113.0/24"], {
        "autonomous_system_number": MmdbU32(64500),
        "autonomous_system_organization": "Example Hosting",
    }),
    (["198.51.100.0/24"], {
        "autonomous_system_number": MmdbU32(64501),
        "autonomous_system_organization": "Example Residential ISP",
        "country": {"iso_code": "NL", "names": {"en": "Netherlands"}},
    }),
    # Only the lower half: 192.0.2.128/25 stays a miss.
    (["192.0.2.0/25"], {
        "autonomous_system_number": MmdbU32(64502),
        "autonomous_system_organization": "Example Mobile Carrier",
        "registered_country": {"iso_code": "DE"},
    }),
    (["2001:db8::/32"], {
        "autonomous_system_number": MmdbU32(64503),
        "autonomous_system_organization": "Example IPv6 Transit",
        "country": {"iso_code": "JP"},
    }),
    # Inside AWS (Samples/ip-ranges.json lists 3.80.0.0/12): must never reach an alert.
    (["3.80.0.0/12"], {
        "autonomous_system_number": MmdbU32(16509),
        "autonomous_system_organization": "Amazon.com, Inc.",
        "country": {"iso_code": "US"},
    }),
]


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests", "Fixtures", "asn-test.mmdb")
    writer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="RoleWatch-Test-ASN",
        languages=["en"], description={"en": "RoleWatch test fixture: documentation networks only"})
    for networks, record in NETWORKS:
        writer.insert_network(IPSet(networks), record)
    writer.to_db_file(output)
    print(output)


if __name__ == "__main__":
    main()
