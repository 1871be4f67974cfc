#!/usr/bin/env bash
# Exports the `income` survey data set shipped by Debian's r-cran-kernlab (8993 rows, 14 columns) to
# one CSV file with a header and quoted strings, for the multi-task tutorials (income_schema()).
#
# Usage: data/get_income.sh [TARGET_DIR]      (default: the folder `income` beside this script)
# Writes TARGET_DIR/income.csv and TARGET_DIR/income_levels.txt (every factor's levels, in R's order).
# Installs r-base-core and r-cran-kernlab with apt-get when they are missing (as root, else via sudo).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="${1:-$script_dir/income}"

have_kernlab() {
  command -v Rscript >/dev/null 2>&1 &&
    Rscript -e 'quit(status = if (requireNamespace("kernlab", quietly = TRUE)) 0 else 1)' \
      >/dev/null 2>&1
}

if ! have_kernlab; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "get_income.sh: r-base-core and r-cran-kernlab are missing and neither root nor sudo is" \
      "available to install them" >&2
    exit 1
  fi
  echo "get_income.sh: installing r-base-core and r-cran-kernlab with apt-get" >&2
  # Another apt-get may hold the lock for a while on a shared machine: wait for it instead of failing.
  if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y --no-install-recommends r-base-core r-cran-kernlab; then
    "${as_root[@]}" apt-get -o DPkg::Lock::Timeout=600 update
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
      install -y --no-install-recommends r-base-core r-cran-kernlab
  fi
  have_kernlab || { echo "get_income.sh: kernlab still cannot be loaded by R" >&2; exit 1; }
fi

mkdir -p "$target"
TINYREC_INCOME_DIR="$target" Rscript --vanilla - <<'EOF'
dir <- Sys.getenv("TINYREC_INCOME_DIR")
data("income", package = "kernlab")
expected <- c("INCOME", "SEX", "MARITAL.STATUS", "AGE", "EDUCATION", "OCCUPATION", "AREA",
              "DUAL.INCOMES", "HOUSEHOLD.SIZE", "UNDER18", "HOUSEHOLDER", "HOME.TYPE",
              "ETHNIC.CLASS", "LANGUAGE")
if (!identical(names(income), expected) || nrow(income) != 8993) {
  stop(sprintf("kernlab's income has changed: %d rows, columns %s", nrow(income),
               paste(names(income), collapse = ",")))
}
# Factors are written as their level labels; missing values as NA (income_schema() treats NA as
# missing). Write to a temporary name first so an interrupted run never leaves a half file behind.
out <- file.path(dir, "income.csv")
write.csv(income, paste0(out, ".part"), row.names = FALSE, na = "NA", quote = TRUE)
invisible(file.rename(paste0(out, ".part"), out))
lv <- file(file.path(dir, "income_levels.txt"), "w")
for (col in names(income)) {
  if (is.factor(income[[col]])) {
    writeLines(sprintf("%s (%s, %d NA): %s", col,
                       if (is.ordered(income[[col]])) "ordered" else "factor",
                       sum(is.na(income[[col]])),
                       paste(sprintf("\"%s\"", levels(income[[col]])), collapse = ", ")), lv)
  }
}
close(lv)
cat(sprintf("wrote %s (%d rows)\n", out, nrow(income)))
EOF
