// FASTA and GenBank readers (data/fasta.h) on small files written by the test, plain and gzip'd,
// and the errors malformed files give.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "data/fasta.h"
#include "data/temp_dir.h"
#include "helpers.h"

using namespace ember;
using namespace ember::data;

namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

void write_gzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

// A two-record GenBank file in augustus' layout: a forward gene with two introns and a
// complement gene with one, locations wrapped over two lines, a qualifier over two lines.
const char* const kGenBank =
    "LOCUS       chr2R_100-130   30 bp  DNA\n"
    "DEFINITION  a test record\n"
    "            over two lines.\n"
    "FEATURES             Location/Qualifiers\n"
    "     source          1..30\n"
    "     CDS             join(3..8,13..17,\n"
    "                     23..28)\n"
    "                     /gene=\"g1\"\n"
    "                     /note=\"a long note\n"
    "                     continued\"\n"
    "BASE COUNT     8 a   7 c  8 g   7 t\n"
    "ORIGIN\n"
    "        1 acatggtaag ctagtcacag gtaaaggcct\n"
    "//\n"
    "LOCUS       second   12 bp  DNA\n"
    "FEATURES             Location/Qualifiers\n"
    "     CDS             complement(join(2..4,9..11))\n"
    "                     /gene=\"g2\"\n"
    "ORIGIN\n"
    "        1 ACGTACGTAC GT\n"
    "//\n";

}  // namespace

TEST_CASE("fasta: records, descriptions, gzip", "[seqdata][fasta]") {
  test::TempDir dir("fasta");
  const std::string text = ";comment\n>chr1 first record\nACGT\nacgn\n\n>chr2\nTT-A*\n";
  write_text(dir.file("a.fa"), text);
  write_gzip(dir.file("a.fa.gz"), text);
  for (const auto& path : {dir.file("a.fa"), dir.file("a.fa.gz")}) {
    const auto records = read_fasta(path);
    REQUIRE(records.size() == 2);
    CHECK(records[0].name == "chr1");
    CHECK(records[0].description == "first record");
    CHECK(records[0].sequence == "ACGTacgn");
    CHECK(records[1].name == "chr2");
    CHECK(records[1].description.empty());
    CHECK(records[1].sequence == "TT-A*");
  }
  CHECK(parse_fasta(">x\r\nAC GT\r\n")[0].sequence == "ACGT");
}

TEST_CASE("fasta: malformed files are errors naming path and line", "[seqdata][fasta]") {
  test::TempDir dir("fasta_bad");
  write_text(dir.file("no_header.fa"), "ACGT\n>x\nAC\n");
  REQUIRE_THROWS_OP(read_fasta(dir.file("no_header.fa")), "line 1");
  REQUIRE_THROWS_OP(read_fasta(dir.file("no_header.fa")), "no_header.fa");
  REQUIRE_THROWS_OP(parse_fasta(">x\nAC1T\n"), "'1'");
  REQUIRE_THROWS_OP(parse_fasta(">x\n>y\nAC\n"), "no sequence");
  REQUIRE_THROWS_OP(parse_fasta(">x\nAC\n>y\n"), "\"y\"");
  REQUIRE_THROWS_OP(parse_fasta(""), "no '>' record");
  REQUIRE_THROWS_OP(read_fasta(dir.file("missing.fa")), "does not exist");
  // A truncated gzip stream.
  const std::string gz_path = dir.file("whole.fa.gz");
  std::string big = ">x\n";
  for (int i = 0; i < 20000; ++i) big += "ACGTTGCAAC";
  write_gzip(gz_path, big);
  auto bytes = test::read_bytes(gz_path);
  bytes.resize(bytes.size() / 2);
  test::write_bytes(dir.file("cut.fa.gz"), bytes);
  REQUIRE_THROWS_OP(read_fasta(dir.file("cut.fa.gz")), "cut.fa.gz is truncated");
}

TEST_CASE("genbank: locations", "[seqdata][fasta]") {
  auto loc = parse_genbank_location("complement(join(10..20,30..40))");
  REQUIRE(loc.intervals.size() == 2);
  CHECK(loc.intervals[0].start == 9);
  CHECK(loc.intervals[0].end == 20);
  CHECK(loc.intervals[1].start == 29);
  CHECK(loc.intervals[1].end == 40);
  CHECK(loc.complement);
  loc = parse_genbank_location("join(complement(30..40), complement(10..20))");  // the other way to write it
  CHECK(loc.complement);
  CHECK(loc.intervals.size() == 2);
  loc = parse_genbank_location("<1..>100");
  CHECK(loc.partial_start);
  CHECK(loc.partial_end);
  CHECK(loc.intervals[0].end == 100);
  CHECK(parse_genbank_location("7").intervals[0].start == 6);
  CHECK(parse_genbank_location("order(1..2,5..6)").intervals.size() == 2);
  REQUIRE_THROWS_OP(parse_genbank_location("join(1..5"), "expected ')'");
  REQUIRE_THROWS_OP(parse_genbank_location("20..10"), "before its start");
  REQUIRE_THROWS_OP(parse_genbank_location("J00194.1:100..202"), "other records");
  REQUIRE_THROWS_OP(parse_genbank_location("join(1..5,complement(8..9))"), "mixed strands");
  REQUIRE_THROWS_OP(parse_genbank_location("0..5"), "start at 1");
}

TEST_CASE("genbank: records, features, qualifiers, gzip", "[seqdata][fasta]") {
  test::TempDir dir("genbank");
  write_gzip(dir.file("genes.gb.gz"), kGenBank);
  const auto records = read_genbank(dir.file("genes.gb.gz"));
  REQUIRE(records.size() == 2);
  const auto& r = records[0];
  CHECK(r.locus == "chr2R_100-130");
  CHECK(r.length == 30);
  CHECK(r.definition == "a test record over two lines.");
  CHECK(r.sequence == "acatggtaagctagtcacaggtaaaggcct");
  REQUIRE(r.features.size() == 2);
  CHECK(r.features[0].type == "source");
  const auto& cds = r.features[1];
  CHECK(cds.type == "CDS");
  REQUIRE(cds.location.intervals.size() == 3);
  CHECK(cds.location.intervals[2].start == 22);
  CHECK(cds.location.intervals[2].end == 28);
  CHECK(!cds.location.complement);
  CHECK(cds.qualifiers.find("gene")->second == "g1");
  CHECK(cds.qualifiers.find("note")->second == "a long note continued");
  CHECK(records[1].sequence == "ACGTACGTACGT");
  CHECK(records[1].features[0].location.complement);
}

TEST_CASE("genbank: malformed files are errors", "[seqdata][fasta]") {
  std::string s = kGenBank;
  REQUIRE_THROWS_OP(parse_genbank(s.substr(0, s.size() - 3), "cut.gb"), "without \"//\"");
  std::string wrong_length = s;
  wrong_length.replace(wrong_length.find("30 bp"), 5, "31 bp");
  REQUIRE_THROWS_OP(parse_genbank(wrong_length, "len.gb"), "LOCUS says 31 bp but ORIGIN holds 30");
  std::string past_end = s;
  past_end.replace(past_end.find("23..28"), 6, "23..38");
  REQUIRE_THROWS_OP(parse_genbank(past_end, "past.gb"), "runs past the sequence");
  std::string bad_location = s;
  bad_location.replace(bad_location.find("join(3..8"), 9, "join(3..x");
  REQUIRE_THROWS_OP(parse_genbank(bad_location, "loc.gb"), "bad location of a CDS");
  REQUIRE_THROWS_OP(parse_genbank("hello\n", "text.gb"), "not a GenBank file");
  std::string nested = s;
  nested.insert(nested.find("//\n"), "LOCUS       x   1 bp  DNA\n");
  REQUIRE_THROWS_OP(parse_genbank(nested, "nested.gb"), "missing \"//\"");
}
