// Readers for DNA sequence files: FASTA and GenBank (flat file), plain or gzip'd (zlib reads both;
// .dz/.bgz too). Malformed files give ember::Error naming the path, the line and what was expected.
// Twins: data/genome.h (the tasks built on them), test/data/test_fasta.cpp.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ember::data {

struct SequenceRecord {
  std::string name;         // the header's first word, without '>'
  std::string description;  // the rest of the header line
  std::string sequence;     // residues as written (case kept), whitespace removed
};

// Every record of a FASTA file. Lines before the first '>' (other than blank lines and ';'
// comments) are an error, as is a record with no sequence or a character outside letters, '-', '*'.
std::vector<SequenceRecord> read_fasta(const std::string& path);
std::vector<SequenceRecord> parse_fasta(const std::string& text, const std::string& source = "<string>");

// A GenBank feature location: intervals 0-based half-open, in the order written (join order).
// "complement(join(10..20,30..40))" -> {[9,20), [29,40)}, complement = true.
// "<1..>100" partial ends are accepted (partial_start/partial_end set). order() is read like join().
struct GenBankInterval {
  int64_t start = 0, end = 0;
};
struct GenBankLocation {
  std::vector<GenBankInterval> intervals;
  bool complement = false;
  bool partial_start = false, partial_end = false;
};
GenBankLocation parse_genbank_location(const std::string& text);

struct GenBankFeature {
  std::string type;       // "CDS", "gene", "mRNA", ...
  GenBankLocation location;
  std::string location_text;
  std::multimap<std::string, std::string> qualifiers;  // /gene="x" -> ("gene", "x"), quotes removed
};

struct GenBankRecord {
  std::string locus;       // LOCUS name
  int64_t length = 0;      // from the LOCUS line (checked against ORIGIN)
  std::string definition;
  std::vector<GenBankFeature> features;
  std::string sequence;    // ORIGIN, lower case as written, digits and spaces removed
};

// Every record ("LOCUS ... //") of a GenBank file. Features whose location runs past the
// sequence, a LOCUS length that disagrees with ORIGIN, or a missing "//" are errors.
std::vector<GenBankRecord> read_genbank(const std::string& path);
std::vector<GenBankRecord> parse_genbank(const std::string& text, const std::string& source = "<string>");

// The whole file as bytes, gunzipping when it is gzip'd (at most max_bytes if > 0). ember::Error
// naming `who` and the path if it does not exist or cannot be read.
std::string read_maybe_gzip(const std::string& path, const std::string& who, int64_t max_bytes = 0);

}  // namespace ember::data
