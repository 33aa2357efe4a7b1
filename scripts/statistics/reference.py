#!/usr/bin/env python3
"""SciPy's values for the statistics of `mnist-adder compare` (Sources/MNISTData/Statistics.swift).

Reads one JSON object from argv[1]:
  {"wilson": [[successes, trials, confidence], ...], "mcnemar": [[b, c], ...], "quantile": [p, ...]}
and prints
  {"wilson": [[lower, upper], ...], "mcnemar": [p, ...], "quantile": [z, ...]}
with Wilson's interval from scipy.stats.binomtest(k, n).proportion_ci(confidence, method="wilson"),
McNemar's exact two-sided p-value from scipy.stats.binomtest(b, b + c, 0.5).pvalue, and the normal
quantile from scipy.special.ndtri. Floats are printed with repr, so every bit reaches the test.
"""
import json
import sys

from scipy.special import ndtri
from scipy.stats import binomtest


def main() -> None:
    cases = json.loads(sys.argv[1])
    wilson = []
    for k, n, confidence in cases.get("wilson", []):
        ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
        wilson.append([float(ci.low), float(ci.high)])
    mcnemar = [float(binomtest(b, b + c, 0.5).pvalue) for b, c in cases.get("mcnemar", [])]
    quantile = [float(ndtri(p)) for p in cases.get("quantile", [])]
    print(json.dumps({"wilson": wilson, "mcnemar": mcnemar, "quantile": quantile}))


if __name__ == "__main__":
    main()
