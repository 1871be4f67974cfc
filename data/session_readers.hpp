// Readers for the click logs of session-based recommendation, each returning raw sessions for
// preprocess_sessions (data/session_dataset.hpp):
//   - YOOCHOOSE (RecSys Challenge 2015) yoochoose-clicks.dat;
//   - DIGINETICA (CIKM Cup 2016) train-item-views.csv;
//   - MovieLens ratings.csv, each user's ratings cut into sessions at long pauses.
// A malformed line throws std::runtime_error "READER: FILE:LINE:COLUMN: what" (column = the
// 1-based character position where the offending field starts).
#pragma once

#include <string>
#include <vector>

#include "data/session_dataset.hpp"

namespace tinyrec::data {

// No header; `session_id,timestamp,item_id,category` with an ISO 8601 UTC timestamp such as
// 2014-04-07T10:51:09.277Z (fraction and trailing Z optional). The category (0, S, 1..12 or a
// brand id) is not used, but the column must be there.
std::vector<RawSession> read_yoochoose_clicks(const std::string& path);

// The header `sessionId;userId;itemId;timeframe;eventdate` then one view per line, semicolons
// between fields; userId is often NA, timeframe is milliseconds since the session began and
// eventdate a day (2016-05-09). A click's time is its day plus its timeframe, so sorting restores
// the order inside a session that the file (and the day alone) does not give.
std::vector<RawSession> read_diginetica_views(const std::string& path);

// MovieLens `userId,movieId,rating,timestamp` (a header first; fields may be double-quoted):
// each user's ratings in time order, cut wherever two consecutive ratings are more than
// gap_hours apart. Every rating is a click, whatever its value.
std::vector<RawSession> read_movielens_sessions(const std::string& path, double gap_hours);

// Seconds since 1970-01-01 of a day "YYYY-MM-DD" and of "YYYY-MM-DDTHH:MM:SS[.fff][Z]"; throw
// std::invalid_argument saying what is wrong.
double parse_day(const std::string& text);
double parse_iso_time(const std::string& text);

}  // namespace tinyrec::data
