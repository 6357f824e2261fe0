"""The benchmark's targets, each read off the records of one run: (name, measured, goal, met).

A target whose cases were not in the run is "not measured" (met None). How to read them (what
each ratio compares, and PyHessian's accuracy) is said once, in the report:
:data:`benchmarks.spectra_report.READING`.
"""

from __future__ import annotations

from benchmarks.networks import Case


def _find(records, kind, width, batch, method, k=None, steps=1):
    for row in records:
        case = row["case"]
        if (case["kind"], case["width"], case["batch"], case["steps"], row["method"], row["k"]) == (
            kind, width, batch, steps, method, k
        ):
            return row
    return None


def targets(records: list[dict]) -> list[tuple[str, str, str, bool | None]]:
    """(name, measured, goal, met) for each target of the issue; met None: not measured."""
    result = []

    def add(name, measured, goal, met):
        result.append((name, measured, goal, met))

    exact = _find(records, "fnn", 64, 8, "exact (factors)")
    torch_row = _find(records, "fnn", 64, 8, "torch.func")
    if exact and torch_row and torch_row["seconds"] and exact["seconds"]:
        ratio = torch_row["seconds"] / exact["seconds"]
        add("speedup_full_spectrum_64x64_r8_vs_torch.func", f"{ratio:.0f}x", ">=100x", ratio >= 100)
        add("error_full_spectrum_64x64_r8_vs_torch.func", f"{exact['error']:.1e}", "<=1e-10",
            exact["error"] <= 1e-10)
    else:
        add("speedup_full_spectrum_64x64_r8_vs_torch.func", "n/a", ">=100x", None)
    for width, batch in ((256, 8), (2048, 1)):
        row = _find(records, "fnn", width, batch, "exact (factors)")
        seconds = row and row["seconds"]
        add(f"time_full_spectrum_{width}x{width}_r{batch}",
            f"{seconds:.2f}s" if seconds else "n/a", "<3s", None if not seconds else seconds < 3)

    for peer in ("eigsh (torch HVP)", "PyHessian", "curvlinops"):
        worst, worst_case, errors = None, None, []
        for row in records:
            case = Case(**row["case"])
            if (row["method"] != "top_eigenvalues" or case.kind != "fnn" or case.batch > 8
                    or not 16 <= case.width <= 256):
                continue
            other = _find(records, "fnn", case.width, case.batch, peer, row["k"])
            if not (other and other["seconds"] and row["seconds"]):
                continue
            ratio = other["seconds"] / row["seconds"]
            errors.append(row["error"])
            if worst is None or ratio < worst:
                worst, worst_case = ratio, f"{case.width}x{case.width} r={case.batch} k={row['k']}"
        name = "speedup_top_k_vs_" + peer.split()[0].replace("(", "")
        if worst is None:
            add(name, "n/a", ">=10x", None)
        else:
            add(name, f"{worst:.1f}x(worst:{worst_case.replace(' ', '_')})", ">=10x", worst >= 10)
    core_errors = [r["error"] for r in records
                   if r["method"] == "top_eigenvalues" and r["error"] is not None]
    if core_errors:
        worst_error = max(core_errors)
        add("error_top_k_factors_max", f"{worst_error:.1e}", "<=1e-9", worst_error <= 1e-9)

    worst, worst_case = None, None
    for row in records:
        case = Case(**row["case"])
        if row["method"] != "exact (factors)" or case.reduced_size > 512 or not row["seconds"]:
            continue
        peers = [_find(records, case.kind, case.width, case.batch, m, 1, case.steps)
                 for m in ("eigsh (torch HVP)", "curvlinops")]
        fastest = min((p["seconds"] for p in peers if p and p["seconds"]), default=None)
        if fastest is None:
            continue
        ratio = fastest / row["seconds"]
        if worst is None or ratio < worst:
            worst, worst_case = ratio, case.name.replace(" ", "_")
    add("small_layers_exact_full_before_lanczos_top1",
        "n/a" if worst is None else f"{worst:.1f}x(worst:{worst_case})", ">1x",
        None if worst is None else worst > 1)

    for label, key, floor in (("factors_eigvalsh", "eig_seconds", 512),
                              ("end_to_end", "seconds", 512),
                              ("factors_eigvalsh_all_sizes", "eig_seconds", 0)):
        worst, worst_case = None, None
        for row in records:
            case = Case(**row["case"])
            if row["method"] != "exact (factors)" or case.reduced_size < floor or not row.get(key):
                continue
            ratio = row[key] / row["bare_eigvalsh_seconds"]
            if worst is None or ratio > worst:
                worst, worst_case = ratio, case.name.replace(" ", "_")
        suffix = "" if floor == 0 else f"_mq>={floor}"
        add(f"overhead_{label}{suffix}_vs_bare_eigvalsh",
            "n/a" if worst is None else f"{worst:.2f}x(worst:{worst_case})", "<=2x",
            None if worst is None else worst <= 2)
    return result


def target_lines(records: list[dict]) -> list[str]:
    lines = []
    for name, measured, goal, met in targets(records):
        verdict = "not measured" if met is None else ("met" if met else "NOT met")
        lines.append(f"target {name} {measured} {goal} {verdict}")
    return lines
