"""`trackwatch bench`: what one response, one pass and one daemon cost, each beside a
reference measured in the same run (karrio's parsers, json.loads plus a walk, raw aiohttp
against the same server). Figures are printed, never asserted: 2 shared cores are noisy,
and the ratios are what count."""
