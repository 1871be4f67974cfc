// Rating tasks: the split into support and query sets and into cold-start test tasks, the synthetic
// cold-start generator, MovieLens's movies as features, and batches of one user's rows.
#include "data/rating_tasks.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>

#include "autograd/limits.hpp"
#include "data/batching.hpp"
#include "data/movielens_reader.hpp"

namespace tinyrec::data {

size_t FeatureTable::columns() const {
  size_t n = 0;
  for (const auto& f : fields) n += f.width;
  return n;
}

namespace {

// One task from a user's (item, rating) pairs: shuffled, the first query_size make the query set.
RatingTask make_task(int64_t user, std::vector<std::pair<int64_t, float>> rated, const TaskSplit& s,
                     std::mt19937_64& rng) {
  shuffle_in_place(rated, rng);
  RatingTask t;
  t.user = user;
  for (size_t j = 0; j < rated.size(); ++j) {
    if (j < s.query_size) {
      t.query_items.push_back(rated[j].first);
      t.query_ratings.push_back(rated[j].second);
    } else if (s.support_size == 0 || t.support_items.size() < s.support_size) {
      t.support_items.push_back(rated[j].first);
      t.support_ratings.push_back(rated[j].second);
    }
  }
  return t;
}

}  // namespace

void build_tasks(MetaDataset& ds, const std::vector<UserRatings>& users, const TaskSplit& s) {
  if (s.split != "users" && s.split != "items")
    throw std::invalid_argument("--split: " + s.split + " not in {users, items}");
  if (!(s.test_fraction > 0 && s.test_fraction < 1))
    throw std::invalid_argument("--test-fraction must be in (0, 1), got " +
                                std::to_string(s.test_fraction));
  if (s.query_size == 0 || s.query_size >= s.min_ratings)
    throw std::invalid_argument("--query-size " + std::to_string(s.query_size) +
                                ": must be at least 1 and leave a support set to a user with " +
                                std::to_string(s.min_ratings) + " ratings");
  ds.split = s.split;
  ds.train.clear();
  ds.test.clear();
  std::mt19937_64 rng(s.seed);
  auto fits = [&](size_t n) { return n >= s.min_ratings && n <= s.max_ratings; };
  if (s.split == "users") {
    std::vector<size_t> order(users.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    shuffle_in_place(order, rng);
    const auto n_test = size_t(std::llround(s.test_fraction * double(users.size())));
    std::vector<bool> is_test(users.size(), false);
    for (size_t i = 0; i < n_test && i < order.size(); ++i) is_test[order[i]] = true;
    for (size_t u = 0; u < users.size(); ++u) {
      const UserRatings& r = users[u];
      if (!fits(r.items.size())) continue;
      std::vector<std::pair<int64_t, float>> rated;
      for (size_t j = 0; j < r.items.size(); ++j) rated.emplace_back(r.items[j], r.ratings[j]);
      (is_test[u] ? ds.test : ds.train).push_back(make_task(r.user, std::move(rated), s, rng));
    }
  } else {
    const size_t n_items = ds.items.size();
    std::vector<size_t> order(n_items);
    for (size_t i = 0; i < n_items; ++i) order[i] = i;
    shuffle_in_place(order, rng);
    const auto n_cold = size_t(std::llround(s.test_fraction * double(n_items)));
    std::vector<bool> cold(n_items, false);
    for (size_t i = 0; i < n_cold; ++i) cold[order[i]] = true;
    for (const UserRatings& r : users) {
      std::vector<std::pair<int64_t, float>> warm_rated, cold_rated;
      for (size_t j = 0; j < r.items.size(); ++j)
        (cold[size_t(r.items[j])] ? cold_rated : warm_rated).emplace_back(r.items[j], r.ratings[j]);
      if (fits(warm_rated.size())) ds.train.push_back(make_task(r.user, warm_rated, s, rng));
      if (fits(cold_rated.size())) ds.test.push_back(make_task(r.user, cold_rated, s, rng));
    }
  }
  const std::string bounds = " (a task needs " + std::to_string(s.min_ratings) + " to " +
                             std::to_string(s.max_ratings) + " ratings; --split " + s.split +
                             ", --test-fraction " + std::to_string(s.test_fraction) + ")";
  if (ds.train.empty()) throw std::invalid_argument(ds.name + ": no training task" + bounds);
  if (ds.test.empty()) throw std::invalid_argument(ds.name + ": no test task" + bounds);
}

namespace {

std::vector<double> gaussian_vector(std::mt19937_64& rng, size_t k) {
  // Box-Muller on uniform01: the numbers depend on this code and the seed alone.
  std::vector<double> v(k);
  for (size_t i = 0; i < k; ++i) {
    const double u1 = 1.0 - uniform01(rng), u2 = uniform01(rng);
    v[i] = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  return v;
}

double gaussian(std::mt19937_64& rng) {
  return gaussian_vector(rng, 1)[0];
}

void check_positive(const char* name, double v) {
  if (!(v > 0))
    throw std::invalid_argument(std::string("melu synthetic: ") + name + " must be > 0");
}

}  // namespace

MetaDataset make_melu_synthetic(const MeluSyntheticConfig& c, const TaskSplit& split) {
  check_positive("users", double(c.users));
  check_positive("items", double(c.items));
  check_positive("rank", double(c.rank));
  if (!(c.feature_share >= 0 && c.feature_share <= 1))
    throw std::invalid_argument("melu synthetic: feature_share must be in [0, 1]");
  if (c.min_ratings < 1 || c.max_ratings < c.min_ratings || c.max_ratings > c.items)
    throw std::invalid_argument(
        "melu synthetic: need 1 <= min_ratings <= max_ratings <= items, got " +
        std::to_string(c.min_ratings) + ", " + std::to_string(c.max_ratings) + ", " +
        std::to_string(c.items));
  const size_t k = size_t(c.rank);
  std::mt19937_64 rng(c.seed);
  MetaDataset ds;
  ds.name = "synthetic";
  // Features: items have up to three genres out of 12, an era out of 8, a studio out of 20; users
  // an age group out of 6 and an occupation out of 10. Ids start at 1 (0 = none).
  ds.items.fields = {{"genre", 13, 3}, {"era", 9, 1}, {"studio", 21, 1}};
  ds.users.fields = {{"age", 7, 1}, {"occupation", 11, 1}};
  auto latent = [&](const std::vector<FeatureField>& fields) {
    std::vector<std::vector<std::vector<double>>> z(fields.size());
    for (size_t f = 0; f < fields.size(); ++f)
      for (int64_t id = 0; id < fields[f].vocab; ++id) z[f].push_back(gaussian_vector(rng, k + 1));
    return z;  // coordinate k drives an item's quality
  };
  const auto z_item = latent(ds.items.fields);
  const auto z_user = latent(ds.users.fields);

  const size_t n_items = size_t(c.items);
  ds.items.ids = xt::zeros<int64_t>({n_items, ds.items.columns()});
  std::vector<std::vector<double>> v(n_items, std::vector<double>(k + 1, 0.0));
  for (size_t i = 0; i < n_items; ++i) {
    ds.item_keys.push_back(std::to_string(i));
    const size_t n_genres = 1 + size_t(uniform_below(rng, 3));
    std::vector<int64_t> genres;
    while (genres.size() < n_genres) {
      const int64_t g = 1 + uniform_below(rng, 12);
      if (std::find(genres.begin(), genres.end(), g) == genres.end()) genres.push_back(g);
    }
    const int64_t era = 1 + uniform_below(rng, 8), studio = 1 + uniform_below(rng, 20);
    for (size_t j = 0; j < genres.size(); ++j) ds.items.ids(i, j) = genres[j];
    ds.items.ids(i, 3) = era;
    ds.items.ids(i, 4) = studio;
    for (size_t d = 0; d <= k; ++d) {
      double g = 0;
      for (int64_t id : genres) g += z_item[0][size_t(id)][d];
      v[i][d] =
          g / double(genres.size()) + z_item[1][size_t(era)][d] + z_item[2][size_t(studio)][d];
    }
  }
  // Unit variance per coordinate over the catalogue.
  for (size_t d = 0; d <= k; ++d) {
    double sum = 0, sq = 0;
    for (const auto& vi : v) sum += vi[d], sq += vi[d] * vi[d];
    const double mean = sum / double(n_items);
    const double sd = std::sqrt(std::max(1e-12, sq / double(n_items) - mean * mean));
    for (auto& vi : v) vi[d] = (vi[d] - mean) / sd;
  }

  const size_t n_users = size_t(c.users);
  ds.users.ids = xt::zeros<int64_t>({n_users, ds.users.columns()});
  const double rho = c.feature_share, own = std::sqrt(1 - rho * rho);
  std::vector<UserRatings> users(n_users);
  std::vector<int64_t> catalogue(n_items);
  for (size_t i = 0; i < n_items; ++i) catalogue[i] = int64_t(i);
  for (size_t u = 0; u < n_users; ++u) {
    const int64_t age = 1 + uniform_below(rng, 6), job = 1 + uniform_below(rng, 10);
    ds.users.ids(u, 0) = age;
    ds.users.ids(u, 1) = job;
    const std::vector<double> eps = gaussian_vector(rng, k);
    std::vector<double> p(k);
    for (size_t d = 0; d < k; ++d)
      p[d] = rho * (z_user[0][size_t(age)][d] + z_user[1][size_t(job)][d]) / std::sqrt(2.0) +
             own * eps[d];
    const int64_t n = c.min_ratings + uniform_below(rng, c.max_ratings - c.min_ratings + 1);
    // The first n of a partial Fisher-Yates shuffle: n distinct items.
    for (int64_t j = 0; j < n; ++j) {
      const int64_t pick = j + uniform_below(rng, int64_t(n_items) - j);
      std::swap(catalogue[size_t(j)], catalogue[size_t(pick)]);
    }
    UserRatings& r = users[u];
    r.user = int64_t(u);
    for (int64_t j = 0; j < n; ++j) {
      const size_t i = size_t(catalogue[size_t(j)]);
      double dot = 0;
      for (size_t d = 0; d < k; ++d) dot += p[d] * v[i][d];
      const double rating = 3 + c.taste_scale * dot / std::sqrt(double(k)) +
                            c.quality_scale * v[i][k] + c.noise * gaussian(rng);
      r.items.push_back(int64_t(i));
      r.ratings.push_back(float(std::clamp(rating, 1.0, 5.0)));
    }
  }
  build_tasks(ds, users, split);
  return ds;
}

MetaDataset read_movielens_tasks(const std::string& ratings_csv, const std::string& movies_csv,
                                 const TaskSplit& split) {
  const MovieLensRecords rec = read_movielens_records(ratings_csv, movies_csv);
  MetaDataset ds;
  ds.name = "movielens";
  std::map<std::string, int64_t> genre_ids;  // sorted names: ids independent of file order
  size_t widest = 1;
  int min_year = 0;
  for (const auto& m : rec.movies) {
    for (const auto& g : m.genres) genre_ids.emplace(g, 0);
    widest = std::max(widest, m.genres.size());
    if (m.year > 0 && (min_year == 0 || m.year < min_year)) min_year = m.year;
  }
  int64_t next = 1;
  for (auto& [name, id] : genre_ids) id = next++;
  int max_bucket = 0;
  for (const auto& m : rec.movies)
    if (m.year > 0) max_bucket = std::max(max_bucket, (m.year - min_year) / 5);
  // Year buckets 1 .. max_bucket + 1; the last id is "no year in the title".
  const int64_t no_year = max_bucket + 2;
  // A bag as wide as the movie with the most genres, for every movie.
  check_size(movies_csv, {{"movies", double(rec.movies.size())},
                          {"genres of the movie with most", double(widest + 1)}});
  ds.items.fields = {{"genres", next, widest}, {"year", no_year + 1, 1}};
  ds.users.fields = {{"user", 2, 1}};
  const size_t n_items = rec.movies.size();
  ds.items.ids = xt::zeros<int64_t>({n_items, ds.items.columns()});
  std::map<int64_t, int64_t> row_of;
  for (size_t i = 0; i < n_items; ++i) {
    const MovieLensMovie& m = rec.movies[i];
    row_of[m.movie] = int64_t(i);
    ds.item_keys.push_back(std::to_string(m.movie));
    for (size_t j = 0; j < m.genres.size(); ++j) ds.items.ids(i, j) = genre_ids.at(m.genres[j]);
    ds.items.ids(i, widest) = m.year > 0 ? 1 + (m.year - min_year) / 5 : no_year;
  }
  std::map<int64_t, UserRatings> by_user;  // ascending userId
  for (const auto& r : rec.ratings) {
    UserRatings& u = by_user[r.user];
    u.items.push_back(row_of.at(r.movie));
    u.ratings.push_back(float(r.rating));
  }
  std::vector<UserRatings> users;
  for (auto& [id, u] : by_user) users.push_back(std::move(u));
  ds.users.ids = xt::ones<int64_t>({users.size(), size_t(1)});
  for (size_t u = 0; u < users.size(); ++u) users[u].user = int64_t(u);
  build_tasks(ds, users, split);
  return ds;
}

namespace {

void fill_fields(const FeatureTable& table, const std::vector<int64_t>& rows,
                 std::vector<xt::xarray<int64_t>>& ids, std::vector<xt::xarray<double>>& weights) {
  const size_t n = rows.size(), F = table.fields.size();
  ids.resize(F);
  weights.resize(F);
  size_t col = 0;
  for (size_t f = 0; f < F; ++f) {
    const size_t w = table.fields[f].width;
    if (w == 1) {
      ids[f] = xt::xarray<int64_t>::from_shape({n});
      for (size_t i = 0; i < n; ++i) ids[f](i) = table.ids(size_t(rows[i]), col);
      weights[f] = xt::xarray<double>();
    } else {
      ids[f] = xt::xarray<int64_t>::from_shape({n, w});
      weights[f] = xt::xarray<double>::from_shape({n, w});
      for (size_t i = 0; i < n; ++i) {
        size_t count = 0;
        for (size_t j = 0; j < w; ++j) {
          ids[f](i, j) = table.ids(size_t(rows[i]), col + j);
          count += ids[f](i, j) != 0;
        }
        for (size_t j = 0; j < w; ++j)
          weights[f](i, j) = ids[f](i, j) != 0 ? 1.0 / double(count) : 0.0;
      }
    }
    col += w;
  }
}

}  // namespace

void fill_rating_batch(const MetaDataset& ds, int64_t user, const std::vector<int64_t>& items,
                       const std::vector<float>& ratings, RatingBatch& out) {
  const size_t n = items.size();
  if (!ratings.empty() && ratings.size() != n)
    throw std::invalid_argument("fill_rating_batch: " + std::to_string(n) + " items but " +
                                std::to_string(ratings.size()) + " ratings");
  out.size = n;
  fill_fields(ds.users, std::vector<int64_t>(n, user), out.user_ids, out.user_weights);
  fill_fields(ds.items, items, out.item_ids, out.item_weights);
  out.ratings = xt::xarray<double>::from_shape({ratings.empty() ? size_t(0) : n});
  for (size_t i = 0; i < ratings.size(); ++i) out.ratings(i) = ratings[i];
}

}  // namespace tinyrec::data
