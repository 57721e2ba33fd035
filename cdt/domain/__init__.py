"""The register's rules, each written once: input models, record rules, sameness, services, indicators, units."""
