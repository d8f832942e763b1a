# Reference values for survey.stats.reliability, computed with R's psych package.
# Usage: Rscript reliability_reference.R data.csv "a=a1,a2,a3;b=b1,b2"
# Prints one JSON object: per scale the complete-case n, psych::alpha's raw alpha, its Feldt
# interval, item-rest correlations (r.drop), psych::fa(fm = "minres", 1 factor) loadings and
# uniquenesses, omega total from those loadings, and psych::omega's omega.tot.
suppressPackageStartupMessages(library(psych))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
specs <- strsplit(strsplit(args[2], ";")[[1]], "=")
num <- function(x) paste0("[", paste(sprintf("%.10f", x), collapse = ", "), "]")
out <- c()
for (s in specs) {
  x <- na.omit(d[, strsplit(s[2], ",")[[1]]])
  a <- suppressWarnings(psych::alpha(x, check.keys = FALSE, warnings = FALSE))
  r <- cor(x)
  f <- suppressWarnings(fa(r, nfactors = 1, fm = "minres", n.obs = nrow(x)))
  L <- as.numeric(f$loadings[, 1]); if (sum(L) < 0) L <- -L
  u <- as.numeric(f$uniquenesses)
  om <- suppressWarnings(omega(x, nfactors = 1, fm = "minres", plot = FALSE))
  out <- c(out, sprintf(paste0('"%s": {"n": %d, "alpha": %.10f, "feldt": %s, "r_drop": %s, ',
                               '"loadings": %s, "uniquenesses": %s, "omega_formula": %.10f, ',
                               '"omega_tot": %.10f}'),
                        s[1], nrow(x), a$total$raw_alpha, num(c(a$feldt$lower.ci, a$feldt$upper.ci)),
                        num(a$item.stats$r.drop), num(L), num(u),
                        sum(L)^2 / (sum(L)^2 + sum(u)), om$omega.tot))
}
cat("{", paste(out, collapse = ",\n"), "}\n")
