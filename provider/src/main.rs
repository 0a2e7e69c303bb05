//! terraform-provider-spinnaker: the binary Terraform launches; all logic
//! lives in the library.

fn main() -> std::process::ExitCode {
    provider::server::main()
}
