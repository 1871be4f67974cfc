#!/usr/bin/env bash
# Writes MovieLens ratings.csv and movies.csv (ml-latest-small, GroupLens headers) into a folder, offline:
# the data come from the `movielens` data frame of Debian's r-cran-dslabs package, written out by Rscript.
# Usage: data/get_movielens.sh [target-dir]   (default: data/movielens)
set -euo pipefail

target="${1:-data/movielens}"
if [[ "$target" == "-h" || "$target" == "--help" ]]; then
  sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

# Install R and dslabs from Debian when they are missing.
if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'library(dslabs)' >/dev/null 2>&1; then
  if [[ "$(id -u)" -eq 0 ]]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "get_movielens.sh: need root (or sudo) to apt-get install r-base-core r-cran-dslabs" >&2
    exit 1
  fi
  echo "get_movielens.sh: installing r-base-core and r-cran-dslabs with apt-get" >&2
  # Another apt-get may hold the lock for a while on a shared machine: wait for it instead of failing.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    r-base-core r-cran-dslabs >&2
fi

mkdir -p "$target"
# dslabs keeps the year in its own column; GroupLens titles end with " (year)", so it is put back.
# Titles are always quoted (with "" for a quote inside), as GroupLens quotes titles holding commas.
# A UTF-8 locale keeps accented titles as they are; under the C locale R writes them as <U+00C9>.
LC_ALL=C.UTF-8 TARGET="$target" Rscript --vanilla - <<'R'
suppressPackageStartupMessages(library(dslabs))
data(movielens, package = "dslabs")
target <- Sys.getenv("TARGET")
m <- movielens

ratings <- m[order(m$userId, m$movieId), c("userId", "movieId", "rating", "timestamp")]
ratings$rating <- sprintf("%.1f", ratings$rating)
write.table(ratings, file.path(target, "ratings.csv"), sep = ",", quote = FALSE,
            row.names = FALSE, col.names = TRUE, eol = "\n")

movies <- unique(m[, c("movieId", "title", "year", "genres")])
movies <- movies[order(movies$movieId), ]
title <- ifelse(is.na(movies$title), "", movies$title)
title <- ifelse(is.na(movies$year), title, paste0(title, " (", movies$year, ")"))
movies <- data.frame(movieId = movies$movieId, title = title,
                     genres = as.character(movies$genres), stringsAsFactors = FALSE)
# The header is written apart: write.table would quote the column names along with the titles.
movies_csv <- file.path(target, "movies.csv")
writeLines("movieId,title,genres", movies_csv)
write.table(movies, movies_csv, sep = ",", quote = 2, qmethod = "double", append = TRUE,
            row.names = FALSE, col.names = FALSE, eol = "\n")

cat(sprintf("get_movielens.sh: wrote %d ratings and %d movies to %s\n",
            nrow(ratings), nrow(movies), target))
R
