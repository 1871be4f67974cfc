// Reader for GroupLens MovieLens CSVs (ratings.csv, movies.csv as in ml-latest-small), turned into
// CTR samples by the DIN paper's MovieLens protocol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/ctr_dataset.hpp"

namespace tinyrec::data {

// ratings.csv has the header `userId,movieId,rating,timestamp`, movies.csv `movieId,title,genres`
// (fields may be double-quoted, a quoted field may hold commas and "" for a quote; genres are
// '|'-separated and the FIRST one is the movie's category; "(no genres listed)" is a genre too).
//
// The protocol: a rating >= 4 is a positive (label 1), anything lower a negative. Each user's
// ratings are sorted by timestamp (ties keep file order); every rating but the first becomes a
// sample whose candidate is that movie and whose history is all the movies the user rated before
// it, with their genres (oldest first; the batcher truncates to the most recent). Users, not
// samples, are split: users shuffled by `seed`, round(test_user_fraction * users) of them go to
// test. Vocabularies come from the train samples: user ids 2, 3, ... in ascending userId, movie and
// genre ids in order of first appearance along the train users' timelines. Test users are unseen in
// training, so their user id is the unknown id 1, as are movies and genres only test users rated.
// Test users get user_keys of their own, after the train users' ids, in ascending userId.
// The vocabularies are kept in the result's `vocab`, keyed by userId, movieId and genre name.
// max_len > 0 stores only the most recent max_len earlier movies per sample (0 keeps them all: for
// ml-latest-small about 25 million history entries, ~400 MB).
// Every user's whole timeline (movies, genres and rating times, in seconds) is kept once in the
// result's `histories`, and each sample points into it (its time is its rating's), for SIM's
// search over the whole history; the other models read the samples' own histories only. Every
// timeline id is already counted (each rating but a user's first is a sample's candidate, the
// first is in the next sample's history).
// Throws std::runtime_error naming the file and line on a malformed line or a rating of a movieId
// that movies.csv lacks, std::invalid_argument on a test_user_fraction outside [0, 1).
CtrDataset read_movielens(const std::string& ratings_csv, const std::string& movies_csv,
                          double test_user_fraction, uint64_t seed, size_t max_len = 0);

// The two files as records, for protocols other than the DIN paper's (MeLU's rating tasks): every
// movie with its genres (all of them, in file order; "(no genres listed)" gives none) and the year
// in parentheses at the end of its title (0 when the title has none), and every rating in file
// order. Checked as read_movielens checks them: the file and line of a malformed record, a rating
// of a movieId that movies.csv lacks, a movieId listed twice.
struct MovieLensMovie {
  int64_t movie = 0;
  std::vector<std::string> genres;
  int year = 0;
};
struct MovieLensRating {
  int64_t user = 0, movie = 0, timestamp = 0;
  double rating = 0;
};
struct MovieLensRecords {
  std::vector<MovieLensMovie> movies;
  std::vector<MovieLensRating> ratings;
};
MovieLensRecords read_movielens_records(const std::string& ratings_csv,
                                        const std::string& movies_csv);

}  // namespace tinyrec::data
