// The --config file: TOML whose keys are the command-line flags' long names (taken from the one
// flag list), turned into the same strings the flags carry so one validator checks both.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace epserve::server {

// What the file reader needs to know of one flag, derived from the cxxopts option list.
struct OptionSpec {
  std::string name;         // the long name: the TOML key
  bool boolean = false;     // a switch (--autoindex): true or false
  bool onOff = false;       // takes on|off: a string, or a boolean
  bool repeatable = false;  // may be given several times: a string or an array of strings
};

// One value of a flag, as the command line would spell it, and where it came from.
struct OptionValue {
  std::string key;
  std::string text;
  std::string origin;  // "FILE:LINE:COLUMN" for a file value, empty for the command line
};

// A syntax error, an unknown key or a wrong type: what() is "FILE:LINE:COLUMN: KEY: message".
class ConfigFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every value in the file at `path`, in file order. [[static]] tables (prefix, dir) become
// "PREFIX=DIR" and [[proxy]] tables (prefix, url or urls) "PREFIX=URL[,URL...]", the form the
// flags take. Throws ConfigFileError.
std::vector<OptionValue> readConfigFile(const std::string& path,
                                        const std::vector<OptionSpec>& specs);

}  // namespace epserve::server
