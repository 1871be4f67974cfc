// Reader for the Amazon CTR files preprocessed by the DIN/DIEN authors' repositories
// (label, user, item, category, history items, history categories; one impression a line).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "data/ctr_dataset.hpp"

namespace tinyrec::data {

// Each line: `label \t user \t item \t category \t history items \t history categories`, the two
// history fields being lists of tokens separated by '\x02' (oldest first), of equal length; an
// empty history field is an empty history. label is "0" or "1"; the other tokens are arbitrary
// strings.
//
// Vocabularies (users, items, categories) are built from the TRAIN file: ids 2, 3, ... in order of
// first appearance, reading each line left to right (user; item, then history items; category, then
// history categories). Tokens of the test file that training never saw map to the unknown id 1.
// A test user unseen in training thus gets user id 1, and a user_key of its own, numbered on after
// the train users in order of first appearance. The vocabularies are kept in the result's `vocab`.
//
// max_len > 0 keeps only the most recent max_len behaviours of each history as it is read (0 keeps
// all), so vocabularies and counts cover exactly what is kept.
//
// Throws std::runtime_error naming the file and line ("amazon: path:3: ...") on a malformed line,
// and when a file cannot be opened or the train file holds no line.
CtrDataset read_amazon(const std::string& train_path, const std::string& test_path, size_t max_len);

// Reads a file in the same format to score it (labels are read and checked as above; histories are
// kept whole, the batcher truncates). With `trained` — a data set read from files, e.g. by
// read_amazon — tokens map through its vocabularies, unseen ones to 1. Without (nullptr), for data
// sets whose ids are born dense, such as the synthetic one, each token must be a dense id written
// as a non-negative integer. Errors as read_amazon's.
std::vector<CtrSample> read_samples_for_prediction(const std::string& path,
                                                   const CtrDataset* trained);

}  // namespace tinyrec::data
