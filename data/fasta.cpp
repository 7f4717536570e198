// FASTA and GenBank readers (interface: data/fasta.h). Both parse the whole file from memory
// (read_maybe_gzip): the largest input, fly chr2R, is 21 MB.
#include "data/fasta.h"

#include <zlib.h>

#include <cctype>
#include <filesystem>

#include "engine/error.h"

namespace ember::data {

std::string read_maybe_gzip(const std::string& path, const std::string& who, int64_t max_bytes) {
  EMBER_CHECK(std::filesystem::exists(path), "{}: file {} does not exist", who, path);
  gzFile f = gzopen(path.c_str(), "rb");
  EMBER_CHECK(f != nullptr, "{}: cannot open {}", who, path);
  std::string out;
  std::string chunk(1 << 20, '\0');
  while (max_bytes <= 0 || static_cast<int64_t>(out.size()) < max_bytes) {
    const int got = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(f, &code);
      gzclose(f);
      EMBER_FAIL("{}: {} is corrupt or truncated after {} bytes ({})", who, path, out.size(), message);
    }
    if (got == 0) break;
    out.append(chunk.data(), static_cast<size_t>(got));
  }
  // zlib reports a gzip stream cut short as Z_BUF_ERROR after returning what it could decode.
  int code = Z_OK;
  gzerror(f, &code);
  gzclose(f);
  EMBER_CHECK(code != Z_BUF_ERROR || (max_bytes > 0 && static_cast<int64_t>(out.size()) >= max_bytes),
              "{}: {} is truncated (the gzip stream ends early, after {} bytes)", who, path, out.size());
  if (max_bytes > 0 && static_cast<int64_t>(out.size()) > max_bytes) out.resize(static_cast<size_t>(max_bytes));
  return out;
}

namespace {

// Calls fn(line, line_number) for each line (without '\n' and a trailing '\r').
template <class F>
void for_each_line(const std::string& text, F&& fn) {
  size_t pos = 0;
  int64_t number = 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!fn(line, number)) return;
    pos = end + 1;
    ++number;
  }
}

bool blank(std::string_view line) {
  for (char c : line) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

}  // namespace

std::vector<SequenceRecord> parse_fasta(const std::string& text, const std::string& source) {
  std::vector<SequenceRecord> records;
  int64_t header_line = 0;
  auto finish = [&](int64_t line) {
    if (records.empty()) return;
    EMBER_CHECK(!records.back().sequence.empty(), "read_fasta: {}: record \"{}\" (line {}) has no sequence", source,
                records.back().name, line);
  };
  for_each_line(text, [&](std::string_view line, int64_t number) {
    if (!line.empty() && line[0] == '>') {
      finish(header_line);
      header_line = number;
      const std::string header = trim(line.substr(1));
      const size_t space = header.find_first_of(" \t");
      SequenceRecord r;
      r.name = header.substr(0, space);
      if (space != std::string::npos) r.description = trim(std::string_view(header).substr(space));
      EMBER_CHECK(!r.name.empty(), "read_fasta: {}: line {}: a '>' header with no name", source, number);
      records.push_back(std::move(r));
      return true;
    }
    if (blank(line) || line[0] == ';') return true;
    EMBER_CHECK(!records.empty(), "read_fasta: {}: line {}: sequence data before the first '>' header (not a FASTA file?)",
                source, number);
    std::string& seq = records.back().sequence;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '-' || c == '*') {
        seq += c;
      } else {
        EMBER_CHECK(std::isspace(static_cast<unsigned char>(c)),
                    "read_fasta: {}: line {}, column {}: unexpected character '{}' in the sequence of \"{}\"", source,
                    number, i + 1, c, records.back().name);
      }
    }
    return true;
  });
  finish(header_line);
  EMBER_CHECK(!records.empty(), "read_fasta: {}: no '>' record found", source);
  return records;
}

std::vector<SequenceRecord> read_fasta(const std::string& path) {
  return parse_fasta(read_maybe_gzip(path, "read_fasta"), path);
}

// ---- GenBank locations ----

namespace {

struct LocationParser {
  explicit LocationParser(const std::string& t) : text(t) {}
  const std::string& text;
  size_t pos = 0;
  GenBankLocation out;
  bool any_complement = false, any_forward = false;

  [[noreturn]] void fail(const std::string& what) const {
    EMBER_FAIL("parse_genbank_location: \"{}\": {} at character {}", text, what, pos + 1);
  }
  bool eat(const char* word) {
    const size_t n = std::char_traits<char>::length(word);
    if (text.compare(pos, n, word) == 0) {
      pos += n;
      return true;
    }
    return false;
  }
  int64_t number() {
    const size_t begin = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == begin) fail("expected a base number");
    const int64_t v = std::stoll(text.substr(begin, pos - begin));
    if (v < 1) fail("base numbers start at 1");
    return v;
  }
  // One element: complement(...), join(...), order(...), or a[..b] with < > partial marks.
  void element(bool complement) {
    if (eat("complement(")) {
      element(!complement);
      if (!eat(")")) fail("expected ')'");
      return;
    }
    if (eat("join(") || eat("order(")) {
      do element(complement);
      while (eat(","));
      if (!eat(")")) fail("expected ')' or ','");
      return;
    }
    if (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) {
      fail("references to other records (accession:range) or unknown operators are not supported");
    }
    const bool partial_start = eat("<");
    const int64_t a = number();
    int64_t b = a;
    bool partial_end = false;
    if (eat("..")) {
      partial_end = eat(">");
      b = number();
    } else if (eat("^")) {
      fail("between-base sites (a^b) are not supported");
    }
    if (b < a) fail("range end before its start");
    out.intervals.push_back({a - 1, b});
    out.partial_start = out.partial_start || partial_start;
    out.partial_end = out.partial_end || partial_end;
    (complement ? any_complement : any_forward) = true;
  }
};

}  // namespace

GenBankLocation parse_genbank_location(const std::string& text) {
  std::string compact;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
  }
  LocationParser p(compact);
  p.element(false);
  if (p.pos != compact.size()) p.fail("unexpected trailing text");
  if (p.any_complement && p.any_forward) p.fail("mixed strands in one location are not supported");
  p.out.complement = p.any_complement;
  return p.out;
}

// ---- GenBank records ----

std::vector<GenBankRecord> parse_genbank(const std::string& text, const std::string& source) {
  std::vector<GenBankRecord> records;
  enum class Section { none, header, features, origin } section = Section::none;
  std::string last_keyword;
  bool in_location = false, open_quote = false;
  std::string qualifier_key;
  int64_t record_line = 0;
  auto fail = [&](int64_t line, const std::string& what) {
    EMBER_FAIL("read_genbank: {}: line {}: {}", source, line, what);
  };
  auto close_feature = [&](int64_t line) {
    if (records.empty() || records.back().features.empty()) return;
    auto& f = records.back().features.back();
    if (f.location.intervals.empty()) {
      try {
        f.location = parse_genbank_location(f.location_text);
      } catch (const Error& e) {
        fail(line, std::string("bad location of a ") + f.type + " feature: " + e.what());
      }
    }
  };
  auto finish_record = [&](int64_t line) {
    close_feature(line);
    GenBankRecord& r = records.back();
    EMBER_CHECK(r.length == 0 || r.length == static_cast<int64_t>(r.sequence.size()),
                "read_genbank: {}: record {} (line {}): LOCUS says {} bp but ORIGIN holds {}", source, r.locus,
                record_line, r.length, r.sequence.size());
    for (const auto& f : r.features) {
      for (const auto& iv : f.location.intervals) {
        EMBER_CHECK(iv.end <= static_cast<int64_t>(r.sequence.size()),
                    "read_genbank: {}: record {}: {} feature {} runs past the sequence ({} bp)", source, r.locus,
                    f.type, f.location_text, r.sequence.size());
      }
    }
  };
  for_each_line(text, [&](std::string_view line, int64_t number) {
    if (line.rfind("LOCUS", 0) == 0) {
      if (section != Section::none) fail(number, "LOCUS inside a record (missing \"//\" before it)");
      section = Section::header;
      record_line = number;
      GenBankRecord r;
      std::vector<std::string> words;
      size_t p = 5;
      while (p < line.size()) {
        while (p < line.size() && line[p] == ' ') ++p;
        const size_t q = line.find(' ', p);
        const size_t e = q == std::string_view::npos ? line.size() : q;
        if (e > p) words.emplace_back(line.substr(p, e - p));
        p = e;
      }
      if (words.empty()) fail(number, "LOCUS line without a name");
      r.locus = words[0];
      for (size_t i = 1; i + 1 < words.size(); ++i) {
        if (words[i + 1] == "bp" || words[i + 1] == "aa") r.length = std::stoll(words[i]);
      }
      records.push_back(std::move(r));
      return true;
    }
    if (blank(line)) return true;
    if (section == Section::none) fail(number, "text outside a LOCUS ... // record (not a GenBank file?)");
    GenBankRecord& r = records.back();
    if (line.rfind("//", 0) == 0) {
      finish_record(number);
      section = Section::none;
      return true;
    }
    if (section == Section::origin) {
      for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '-' || c == '*') {
          r.sequence += c;
        } else if (!std::isdigit(static_cast<unsigned char>(c)) && !std::isspace(static_cast<unsigned char>(c))) {
          fail(number, fmt::format("unexpected character '{}' in ORIGIN", c));
        }
      }
      return true;
    }
    if (line[0] != ' ') {  // a top-level keyword
      close_feature(number);
      const size_t end = line.find(' ');
      last_keyword = std::string(line.substr(0, end));
      if (last_keyword == "FEATURES") {
        section = Section::features;
      } else if (last_keyword == "ORIGIN") {
        section = Section::origin;
      } else {
        section = Section::header;
        if (last_keyword == "DEFINITION") r.definition = trim(line.substr(std::min<size_t>(12, line.size())));
      }
      return true;
    }
    if (section == Section::header) {  // continuation of a header keyword
      if (last_keyword == "DEFINITION") {
        r.definition += ' ';
        r.definition += trim(line);
      }
      return true;
    }
    // FEATURES: key at column 6 (index 5), location/qualifiers from column 22 (index 21).
    if (line.size() > 5 && line[5] != ' ') {
      close_feature(number);
      if (line.size() < 22) fail(number, "feature line too short for a location");
      GenBankFeature f;
      f.type = trim(line.substr(5, 16));
      f.location_text = trim(line.substr(21));
      r.features.push_back(std::move(f));
      in_location = true;
      open_quote = false;
      return true;
    }
    if (r.features.empty()) {
      if (trim(line).empty() || line.size() < 21) return true;
      fail(number, "qualifier before any feature");
    }
    GenBankFeature& f = r.features.back();
    const std::string body = trim(line);
    if (open_quote) {
      auto range = f.qualifiers.equal_range(qualifier_key);
      auto& value = std::prev(range.second)->second;
      if (qualifier_key != "translation") value += ' ';  // protein text wraps without spaces
      value += body;
      if (!body.empty() && body.back() == '"') {
        value.pop_back();
        open_quote = false;
      }
      return true;
    }
    if (!body.empty() && body[0] == '/') {
      in_location = false;
      const size_t eq = body.find('=');
      qualifier_key = body.substr(1, eq == std::string::npos ? std::string::npos : eq - 1);
      std::string value = eq == std::string::npos ? "" : body.substr(eq + 1);
      if (!value.empty() && value[0] == '"') {
        value.erase(0, 1);
        if (!value.empty() && value.back() == '"') {
          value.pop_back();
        } else {
          open_quote = true;
        }
      }
      f.qualifiers.emplace(qualifier_key, value);
      return true;
    }
    if (in_location) {
      f.location_text += body;
      return true;
    }
    fail(number, "unexpected line in FEATURES (neither a feature, a /qualifier nor a location continuation)");
    return false;
  });
  if (section != Section::none) {
    EMBER_FAIL("read_genbank: {}: record {} (line {}) ends without \"//\"", source, records.back().locus, record_line);
  }
  EMBER_CHECK(!records.empty(), "read_genbank: {}: no LOCUS record found", source);
  return records;
}

std::vector<GenBankRecord> read_genbank(const std::string& path) {
  return parse_genbank(read_maybe_gzip(path, "read_genbank"), path);
}

}  // namespace ember::data
