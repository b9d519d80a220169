use clap::Parser;

fn main() {
    let cli = coursepack::cmd::Cli::parse();
    std::process::exit(coursepack::cmd::run(cli));
}
