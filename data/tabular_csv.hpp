// Multi-task tabular CSV reader driven by a schema (numeric, categorical and label columns), the
// schema's small text format, and ready schemas for UCI census-income (KDD) and kernlab's `income`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/multitask_dataset.hpp"

namespace tinyrec::data {

// One task's label. Binary with positive_values: the (trimmed, case-sensitive) value is 1 when it
// is in the set, else 0. Binary without: the field must be the number 0 or 1. Regression: any
// number. A row whose label field is missing is dropped (and counted in CsvLoadReport).
struct LabelSpec {
  std::string column;
  TaskKind kind = TaskKind::binary;
  std::string name;  // task name; empty means the column name
  std::vector<std::string> positive_values;
};

// How fields are read. Every field is trimmed of surrounding spaces and tabs (census files separate
// fields by ", "), after removing its double quotes if it has them ("" inside quotes is one quote;
// quoted fields may hold the delimiter but not a line break). A field equal to one of `missing` is
// missing: a numeric one becomes 0 after standardising (the train mean), a categorical one id 0.
// Numeric columns are standardised with the train split's mean and (population) standard deviation;
// a column whose deviation is below 1e-12 * (1 + |mean|) is only centred. Categorical ids are 1..V
// in sorted order of the values seen in the train split; values never seen there map to 0.
struct CsvSchema {
  std::string name = "csv";  // dataset name
  std::vector<std::string> numeric, categorical;
  std::vector<LabelSpec> labels;
  char delimiter = ',';
  bool header = true;
  // Column names of a header-less file, in order. Left empty, a header-less file's columns are
  // named by position: "1", "2", ...
  std::vector<std::string> columns;
  std::vector<std::string> missing = {"?", ""};
};

// The schema text format, one directive a line ('#' starts a comment outside quotes):
//
//   name census-income
//   delimiter ,                 one character, or: comma, tab, semicolon, space, pipe
//   header no                   yes | no
//   columns age, "class of worker", education, ...      (header-less files)
//   numeric age, "wage per hour"
//   categorical education
//   label income binary name=high_income positive="50000+.","50000+"
//   label "marital stat" binary name=never_married positive="Never married"
//   label score regression
//   missing "?", "", NA
//
// Tokens are separated by spaces; double quotes (with "" for a literal quote) protect spaces,
// commas and '#'. Lists (columns, numeric, categorical, missing, positive=) are split at commas
// outside quotes and may span several tokens; an empty item counts only when quoted (""). numeric,
// categorical, columns and missing may repeat and append. A label reads
// `label COLUMN KIND [name=NAME] [positive=V1,V2,...]`, KIND being binary or regression.
CsvSchema parse_csv_schema(const std::string& text, const std::string& origin = "<schema>");
CsvSchema read_csv_schema_file(const std::string& path);
// One label in the schema's syntax without the word `label`: `COLUMN KIND [name=..] [positive=..]`.
LabelSpec parse_label_spec(const std::string& text);
// For command-line flags: --numeric "age,height" --categorical "city" --label "y binary" ...
// Lists use the schema's list syntax; `delimiter` accepts what the `delimiter` directive accepts.
CsvSchema csv_schema_from_flags(const std::string& numeric, const std::string& categorical,
                                const std::vector<std::string>& labels,
                                const std::string& delimiter = ",", bool header = true);
// Throws std::invalid_argument when the schema has no label, an empty column name, or a column
// used twice among the features and labels.
void validate_csv_schema(const CsvSchema& schema);

struct CsvLoadReport {
  size_t train_rows = 0, test_rows = 0;
  size_t dropped_missing_label = 0;  // rows left out because a label field was missing
};

// Separate train and test files (each resolves the schema's columns by its own header).
MultiTaskDataset load_csv_dataset(const CsvSchema& schema, const std::string& train_path,
                                  const std::string& test_path, CsvLoadReport* report = nullptr);
// One file split at random: round(test_fraction * rows) rows (after dropping rows with a missing
// label) go to test, chosen by `seed`; both splits keep the file's row order.
MultiTaskDataset load_csv_dataset_split(const CsvSchema& schema, const std::string& path,
                                        double test_fraction, uint64_t seed,
                                        CsvLoadReport* report = nullptr);

// Splits one line into trimmed, unquoted fields; throws std::runtime_error on an unterminated
// quote.
std::vector<std::string> split_csv_line(const std::string& line, char delimiter);

// UCI census-income (KDD), the MMoE paper's real data: census-income.data / census-income.test, no
// header, 42 comma-plus-space separated columns, '?' for missing. Column names as in the data set's
// census-income.names (its attribute list gives 40 names and the "instance weight"; the last,
// unnamed goal column is called "income" here). Task 1 `income_50k`: income is "50000+." (the
// other value is "- 50000."). Task 2 `never_married`: "marital stat" is "Never married". Features:
// the 7 continuous columns as numeric; the other nominal columns except "marital stat" as
// categorical (32, including the numerically coded recodes and "year"); "instance weight" is a
// survey weight the documentation says not to use and is left out. Note that "detailed household
// and family stat" still encodes marriage for some rows ("never marr"); the paper does not say
// whether it dropped such columns, and they are kept here.
CsvSchema census_income_schema();

// kernlab's `income` survey as written by data/get_income.sh (header, quoted strings, NA missing):
// 8993 rows; every column is an R factor, so all features are categorical (the ordered ones, AGE,
// EDUCATION, AREA, HOUSEHOLD.SIZE and UNDER18, too). Task 1 `high_income`: INCOME in the bands
// "[50.000-75.000)" or "[75.000-", i.e. household income of $50,000 or more, the census task's
// threshold (the next lower cut, $40,000, would give 35%). Task 2 `never_married`: MARITAL.STATUS
// is "Single" (levels: Married, Together, Divorced, Widowed, Single); its 160 NA rows are dropped.
// Measured on the 8833 kept rows: positive rates 24.5% and 41.4%, label correlation -0.25.
// Note DUAL.INCOMES has the level "Not Married", which partly reveals task 2.
CsvSchema income_schema();

}  // namespace tinyrec::data
