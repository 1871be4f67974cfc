// Rating data cut into tasks for meta-learning (MeLU): users and items described by categorical
// features, and one task per user whose ratings are split into a support set (what a model adapts
// on) and a query set (what the adapted model is judged on). Two splits of the tasks into
// meta-training and test: cold-start users (test users are never seen in meta-training) and
// cold-start items (test tasks rate only items no training task holds). Sources: a seeded
// synthetic generator of users with their own tastes, and MovieLens.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace tinyrec::data {

// A categorical feature of users or of items. An entity holds up to `width` ids of it (a bag, as a
// movie's genres; width 1 for a plain field); id 0 means "none" and pads a bag. vocab counts id 0.
struct FeatureField {
  std::string name;
  int64_t vocab = 1;
  size_t width = 1;
};

struct FeatureTable {
  std::vector<FeatureField> fields;
  xt::xarray<int64_t> ids;  // [entities, Σ widths], field after field
  size_t size() const { return ids.dimension() == 2 ? ids.shape()[0] : 0; }
  size_t columns() const;  // Σ widths
};

struct RatingTask {
  int64_t user = 0;                                 // row of the user table
  std::vector<int64_t> support_items, query_items;  // rows of the item table
  std::vector<float> support_ratings, query_ratings;
};

struct MetaDataset {
  std::string name;
  FeatureTable users, items;
  std::vector<std::string> item_keys;  // each item row's id in the source (MovieLens movieId)
  std::vector<RatingTask> train, test;
  std::string split;  // "users" or "items"
};

// One user's ratings before the split into tasks.
struct UserRatings {
  int64_t user = 0;
  std::vector<int64_t> items;
  std::vector<float> ratings;
};

// How users' ratings become tasks. The MeLU paper keeps users with 13 to 100 ratings and holds 10
// of each user's ratings out as the query set.
struct TaskSplit {
  std::string split = "users";  // "users" or "items"
  double test_fraction = 0.2;   // share of users ("users") or of items ("items") held out
  size_t min_ratings = 13, max_ratings = 100;
  size_t query_size = 10;
  size_t support_size = 0;  // 0: every rating not in the query set
  uint64_t seed = 1;        // the held-out share and each user's support/query draw
};

// Fills ds.train and ds.test from `users` (item rows of ds.items). "users": users are shuffled and
// test_fraction of them become test tasks. "items": test_fraction of the items become cold; a
// user's ratings of warm items make a training task, their ratings of cold items a test task.
// Either way a task needs min_ratings to max_ratings ratings (others are left out); its query set
// is query_size ratings drawn at random, its support set the rest (at most support_size of them
// when that is not 0). Throws std::invalid_argument naming the flag for a split other than the
// two, a query size that leaves no support set, a fraction outside (0, 1), and when either side
// ends up without a task.
void build_tasks(MetaDataset& ds, const std::vector<UserRatings>& users, const TaskSplit& split);

// The synthetic cold-start data. Every feature value f (of a user or an item) has a latent vector
// z_f in R^k. An item's vector v_i is the sum of its features' vectors (a bag contributes their
// mean), scaled to unit variance per coordinate; its quality q_i is one more feature-driven number.
// A user's taste is p_u = ρ·(mean of its features' vectors) + √(1 − ρ²)·ε_u with ε_u ~ N(0, I): a
// share ρ of it follows from the user's features, the rest is the user's own and shows only in
// their ratings. A rating is r = clip(3 + a·⟨p_u, v_i⟩/√k + b·q_i + N(0, σ²), 1, 5). A global model
// sees features only and so can fit the ρ part at best; a few gradient steps on a user's support
// ratings can find the rest. Users rate min_ratings..max_ratings distinct items, uniformly.
struct MeluSyntheticConfig {
  int64_t users = 2000;
  int64_t items = 500;
  int64_t rank = 6;            // k
  double feature_share = 0.3;  // ρ
  double taste_scale = 0.9;    // a
  double quality_scale = 0.3;  // b
  double noise = 0.2;          // σ
  int64_t min_ratings = 20, max_ratings = 60;
  uint64_t seed = 1;
};
// Throws std::invalid_argument naming the offending field.
MetaDataset make_melu_synthetic(const MeluSyntheticConfig& config, const TaskSplit& split);

// MovieLens (ratings.csv and movies.csv, data/movielens_reader.hpp) as rating tasks. Item
// features: the genres (a bag of up to all of a movie's genres) and the release year, in
// five-year buckets (a bucket of its own for a title without a year). ml-latest-small has no user
// demographics: every user has the one feature "user" with the same id, so the global model knows
// nothing about a user and everything personal comes from the local update.
MetaDataset read_movielens_tasks(const std::string& ratings_csv, const std::string& movies_csv,
                                 const TaskSplit& split);

// Rows of one user for a model: per field the ids ([n] for width 1, [n, width] for a bag) and, for
// a bag, the weight of each id in the bag's mean (1/count, 0 on padding), and the ratings [n].
struct RatingBatch {
  size_t size = 0;
  std::vector<xt::xarray<int64_t>> user_ids, item_ids;
  std::vector<xt::xarray<double>> user_weights, item_weights;  // empty entries for width 1
  xt::xarray<double> ratings;
};
void fill_rating_batch(const MetaDataset& ds, int64_t user, const std::vector<int64_t>& items,
                       const std::vector<float>& ratings, RatingBatch& out);

}  // namespace tinyrec::data
