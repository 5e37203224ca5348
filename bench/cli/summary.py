"""The terminal summary of a run: per config, and per problem x config."""

from __future__ import annotations


def _fmt_seconds(s: float) -> str:
    import math

    if s is None or not math.isfinite(s) or s <= 0:
        return "-"  # a measured wall time is never 0: none was measured
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _fmt_count(v: float) -> str:
    import math

    return "-" if v is None or not math.isfinite(v) else f"{v:.4g}"


def _aggregate(df, keys: list[str]):
    """Per group: runs, solved, medians over solved runs, diverged/stalled counts."""
    import numpy as np
    import pandas as pd

    from bench.status import Status

    def col(name: str) -> pd.Series:
        if name in df:
            return pd.to_numeric(df[name], errors="coerce")
        return pd.Series(np.nan, index=df.index)

    d = pd.DataFrame({k: df[k] for k in keys})
    d["solved"] = df["solved"].astype(bool) if "solved" in df else False
    status = df["status"] if "status" in df else pd.Series("", index=df.index)
    d["diverged"] = status == Status.DIVERGED.label
    d["stalled"] = status == Status.STALLED.label
    for name in ("steps_to_tol", "njev_to_tol", "work_to_tol", "time_to_tol_s"):
        d[name] = col(name).where(d["solved"])
    g = d.groupby(keys, sort=False)
    out = g.agg(
        runs=("solved", "size"),
        solved=("solved", "sum"),
        steps=("steps_to_tol", "median"),
        njev=("njev_to_tol", "median"),
        work=("work_to_tol", "median"),
        time=("time_to_tol_s", "median"),
        diverged=("diverged", "sum"),
        stalled=("stalled", "sum"),
    ).reset_index()
    if "problem" in df and "problem" not in keys:
        d["problem"] = df["problem"]
        out["problems"] = d.groupby(keys, sort=False)["problem"].nunique().to_numpy()
    out["frac"] = out["solved"] / out["runs"]
    out = out.sort_values(["frac", "njev"], ascending=[False, True], kind="stable")
    if len(keys) > 1:  # keep the problems in run order, best configs first within
        order = {v: i for i, v in enumerate(dict.fromkeys(df[keys[0]]))}
        out = out.sort_values(keys[0], key=lambda s: s.map(order), kind="stable")
    return out


def print_summary(runs, console, max_detail_rows: int = 40) -> None:
    """Per config: solved fraction, median steps / gradients / time to tol over the
    solved runs, failures; per problem x config too when that table is small."""
    from rich.markup import escape
    from rich.table import Table

    def table(title: str, agg, keys: list[str]) -> Table:
        # Hessian-vector products or Jacobians (newton_cg, levenberg_marquardt): their
        # work is not in njev (work_to_tol, the work profile's measure: docs/schema.md)
        work = bool((agg["work"] > agg["njev"]).any())
        note = "work = njev + Hessian-vector products + Jacobians" if work else None
        t = Table(title=title, caption=note, title_justify="left",
                  caption_justify="left", show_edge=False, pad_edge=False)  # fmt: skip
        for k in keys:
            t.add_column(k, overflow="fold")
        if "problems" in agg:
            t.add_column("problems", justify="right")
        heads = ("solved", "med steps", "med njev", *("med work",) * work, "med time",
                 "diverged")  # fmt: skip
        for head in heads:
            t.add_column(head, justify="right")
        if agg["stalled"].sum():
            t.add_column("stalled", justify="right")
        for _, r in agg.iterrows():
            k, n = int(r["solved"]), int(r["runs"])
            style = "green" if k == n else ("red" if k == 0 else "")
            cells = [escape(str(r[key])) for key in keys]
            if "problems" in agg:
                cells.append(str(int(r["problems"])))
            cells += [
                f"[{style}]{k}/{n}[/]" if style else f"{k}/{n}",
                _fmt_count(r["steps"]),
                _fmt_count(r["njev"]),
                *(_fmt_count(r["work"]),) * work,
                _fmt_seconds(r["time"]),
                str(int(r["diverged"])) if r["diverged"] else "-",
            ]
            if agg["stalled"].sum():
                cells.append(str(int(r["stalled"])) if r["stalled"] else "-")
            t.add_row(*cells)
        return t

    if "config" not in runs:
        return
    from bench.precision import labelled

    runs = labelled(runs)  # a run of two precisions: two rows per config
    by_config = _aggregate(runs, ["config"])
    console.print()
    console.print(
        table(
            "per config (medians over solved runs; njev = gradient evaluations)",
            by_config,
            ["config"],
        )
    )
    if "problem" in runs:
        detail = _aggregate(runs, ["problem", "config"])
        if len(detail) <= max_detail_rows and runs["problem"].nunique() > 1:
            console.print()
            console.print(table("per problem", detail, ["problem", "config"]))
    if "f_star_known" in runs and "problem" in runs:
        unknown = list(dict.fromkeys(runs.loc[~runs["f_star_known"].astype(bool),
                                              "problem"]))  # fmt: skip
        if unknown:  # else a rerun with other optimizers reads as nondeterminism
            console.print(
                f"f* unknown for {', '.join(unknown)}: solved there means within tol "
                "of the best f found in this run (docs/schema.md)",
                highlight=False, markup=False,
            )
    console.print()
