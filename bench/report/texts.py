"""The report's fixed prose: profile definitions and the note on peer libraries."""

PERF_DEFINITION = (
    "Performance profile (Dolan & More 2002). A problem instance p is one problem "
    "and one start. t(p,s) is the cost for config s to reach gap <= tol*max(1,|f*|) "
    "on p ({what}); t = inf when s never reaches it or diverges. The ratio is "
    "r(p,s) = t(p,s) / min over configs of t(p,s), and rho_s(tau) = (number of "
    "instances with r(p,s) <= tau) / (number of instances). rho_s(1) is the fraction "
    "of instances on which s was the cheapest (ties count for every tied config); "
    "rho_s at large tau is the fraction s solves at all."
)
WORK = (
    "derivative work, work_to_tol = njev + nhvp + njac: each Hessian-vector product "
    "and each Jacobian counted as one gradient, a simplification (a product costs "
    "~2 gradients, a Jacobian up to min(m, n))"
)
DATA_DEFINITION = (
    "Data profile (More & Wild 2009). d_s(alpha) = (number of instances p with "
    "t(p,s) / (n_p + 1) <= alpha) / (number of instances), where t(p,s) is the number "
    "of gradient evaluations (njev) config s needs to reach gap <= tol*max(1,|f*|) "
    "on p (inf if never or diverged) and n_p is the dimension of p: alpha is a budget "
    "in units of n_p + 1 gradient evaluations (More & Wild count function "
    "evaluations, i.e. simplex gradients; here they are gradient evaluations)."
)
PEER_NOTE = (
    "Some runs come from peer libraries. scipy runs in Python: its times include "
    "interpreter overhead for every iteration. optimistix runs are compiled JAX with "
    "XLA's default options, timed through jax.jit(optimistix.minimise); optax's "
    "optimizers run inside optbench's own driver. Every time is the wall time of one "
    "start run alone, dispatch included, for every source. Counting conventions "
    "differ where the libraries do: "
    "scipy's L-BFGS-B stops on the infinity norm of the projected gradient; "
    "optimistix's BFGS counts one f per line-search trial and one gradient per "
    "accepted step. Compare oracle counts across sources with that in mind."
)
CONVERGENCE_CAPTION = (
    "{problem}: gap f - f* (log scale) versus step, gradient evaluations and seconds, "
    "and gradient norm versus step. One line per config: the median over starts with "
    "a 25-75% band; diverged runs are left out and counted as 'k/n failed' in the "
    "legend."
)
CONTOUR_CAPTION = (
    "{problem}: contours of f - min f at log-spaced levels, each config's iterates "
    "from start 0 (dashed: the run diverged), the start (square) and x* (star) where "
    "known."
)
LR_CAPTION = (
    "{problem}: median final gap and median steps to tolerance versus learning rate, "
    "one line per optimizer (other hyperparameters fixed). An x at the top marks an lr "
    "at which some start diverged; a triangle marks an lr at which no start reached "
    "the tolerance."
)
RATES_TEXT = (
    "rate: exp(slope) of a fit of log gap over the tail, per step (median over "
    "non-diverged starts); order: slope of log e_{k+1} against log e_k; "
    "rate_theory: the theoretical per-step contraction where known."
)
SUMMARY_CAPTION = (
    "Solved: final gap <= tol*max(1,|f*|) and not diverged. Medians of steps / njev / "
    "time to tolerance are over solved runs; compile_s over cells."
)
EXPLORER_CAPTION = (
    "{problem}, interactive: every start of every config as one line (hover for the "
    "config, start and value; gaps <= 0 drawn at the floor of the static figure)."
)
EXPLORER_HELP = (
    "The menus choose what the axes show and their scale (log or linear); a click on "
    "a legend entry hides or shows that config, a double click shows it alone; drag "
    "to zoom, double click to reset."
)
KAPPA_TEXT = (
    "On a quadratic with eigenvalues in [mu, L], kappa = L / mu, the textbook tunings "
    "need O(kappa log(1/eps)) steps for gradient descent (lr = 2/(L+mu)) and "
    "O(sqrt(kappa) log(1/eps)) for Polyak's heavy ball and Nesterov's method; Newton "
    "needs one step whatever kappa; BFGS is measured only (Nesterov 2004, ch. 2; "
    "Polyak 1987, ch. 3)."
)
KAPPA_CAPTION = (
    "{sweep}: median over solved starts of the steps to reach gap <= tol*max(1,|f*|), "
    "against kappa, log-log, one line per config; dashed: theory's slope drawn through "
    "the config's first solved point. The legend gives the fitted slope (least squares "
    "of log steps on log kappa)."
)
KAPPA_TABLE_CAPTION = (
    "Fitted slope of log(median steps to tolerance) against log(kappa), and the slope "
    "theory predicts (empty: no prediction); solved: runs solved / runs."
)
ECDF_DEFINITION = (
    "Runtime ECDFs (COCO; Hansen et al. 2021). For each problem instance (problem, "
    "start) and each target t in 1e1, 1, 1e-1, ..., 1e-8, the gradient evaluations "
    "(njev, left) or function evaluations (nfev, right) a config spent until its gap "
    "first reached f - f* <= t*max(1,|f*|); each curve is the fraction of all "
    "(problem, start, target) triples reached within the budget on the x axis (a "
    "triple never reached stays in the count). Read from the run's targets table, so "
    "exact however the traces were thinned."
)
TUNING_TEXT = (
    "Tuning protocol (DeepOBS, Schneider et al. 2019; AlgoPerf, Dahl et al. 2023). "
    "Each (problem, optimizer family) ran over the grid of {key} on the first seed's "
    "starts; the chosen {key} has the smallest median gradient evaluations to "
    "tolerance (njev_to_tol; a start that never reached it counts as infinite; ties go "
    "to the larger {key}). Tuned and default configs then ran on fresh starts (the "
    "next seed; start 0 is the standard x0 in both): the columns 'default' and "
    "'tuned' below are those fresh runs, medians over solved starts."
)
COST_CAPTION = (
    "{family}: median over runs of run_s / n_steps (wall seconds of one start run "
    "alone, dispatch included, per iteration) against the dimension, log-log, one line "
    "per config; the legend gives the slope fitted from n = 100 up, where the "
    "arithmetic dominates the per-step overhead. The optimizer's own work is O(n) for "
    "first-order methods and L-BFGS, O(n^2) for BFGS, O(n^3) for dense Newton, on top "
    "of the oracles' (a dense quadratic's gradient is O(n^2) already)."
)
FLOOR_CAPTION = (
    "The attainable gap floor per config: for each run the smallest relative gap "
    "(f - f*) / max(1, |f*|) over its stored trace rows, clipped below at 1e-16 (a gap "
    "at float64's resolution, zero or negative counts as 1e-16); the median over "
    "starts, then over the problems with a published f* that the config ran in both "
    "precisions. Both precisions stop under the same gtol, so the gap between the two "
    "markers is what float32's rounding costs; configs that lose most are on top."
)
FLOOR_TABLE_CAPTION = (
    "Floors as in the figure; ratio = float32 floor / float64 floor, largest first; "
    "problems: how many the medians are over."
)
