# Homebrew formula for ecr-login: builds both binaries from source with cargo, installs the
# man page and shell completions that build.rs generates, and runs the renewal daemon as a
# launchd agent with `brew services start ecr-login`. The source is the release's own
# archive (packaging/release-names.sh); the release workflow fills in its sha256 and
# publishes the filled-in formula as a release asset.
class EcrLogin < Formula
  desc "Docker credential helper for Amazon ECR with a token cache and renewal daemon"
  homepage "https://github.com/ecr-login/ecr-login"
  url "https://github.com/ecr-login/ecr-login/releases/download/v0.1.0/ecr-login-0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "Apache-2.0"
  head "https://github.com/ecr-login/ecr-login.git", branch: "main"

  depends_on "rust" => :build

  conflicts_with "docker-credential-helper-ecr",
    because: "both install a `docker-credential-ecr-login` binary"

  def install
    system "cargo", "build", "--locked", "--release", "--bins",
           "-p", "ecr-login", "-p", "ecr-login-front"
    bin.install "target/release/docker-credential-ecr-login", "target/release/ecr-login"
    assets = Dir["target/release/build/ecr-login-*/out/assets"].max_by { |d| File.mtime(d) }
    man1.install "#{assets}/docker-credential-ecr-login.1"
    bash_completion.install "#{assets}/docker-credential-ecr-login.bash" => "docker-credential-ecr-login"
    zsh_completion.install "#{assets}/_docker-credential-ecr-login"
    fish_completion.install "#{assets}/docker-credential-ecr-login.fish"
  end

  service do
    run [opt_bin/"ecr-login", "daemon"]
    keep_alive successful_exit: false
    process_type :background
    log_path var/"log/ecr-login/daemon.log"
    error_log_path var/"log/ecr-login/daemon.log"
  end

  def caveats
    <<~EOS
      Point Docker at it:
        docker-credential-ecr-login configure           # credHelpers for your registry
        docker-credential-ecr-login configure --store   # or: every ECR registry, keeping
                                                        # your osxkeychain/desktop logins
      Keep tokens fresh in the background:
        brew services start ecr-login
    EOS
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/docker-credential-ecr-login version")
    output = pipe_output("#{bin}/docker-credential-ecr-login get", "docker.io", 1)
    assert_equal "credentials not found in native keychain\n", output
  end
end
