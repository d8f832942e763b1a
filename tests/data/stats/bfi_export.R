# Writes psych's bfi items keyed as psych::bfi.keys says and put on 0-100 (as survey keys its
# statements): reversed items 7 - x, then (x - 1) / 5 * 100. Used by the live R check only;
# the data are not stored in this repository.
# Usage: Rscript bfi_export.R out.csv
suppressPackageStartupMessages(library(psych))
out <- commandArgs(trailingOnly = TRUE)[1]
items <- unlist(bfi.keys)
keyed <- sapply(items, function(k) {
  name <- sub("^-", "", k)
  x <- bfi[[name]]
  if (startsWith(k, "-")) x <- 7 - x
  (x - 1) / 5 * 100
})
colnames(keyed) <- sub("^-", "", items)
write.csv(keyed, out, row.names = FALSE, na = "NA")
