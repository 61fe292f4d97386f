def test_launch_command_takes_the_worker_command_after_the_separator():
    from tfcdr.cli import build_parser

    args = build_parser().parse_args(["launch", "--workers", "2", "--", "tfcdr", "train", "--model", "mlp"])
    assert args.workers == 2 and args.worker_command == ["--", "tfcdr", "train", "--model", "mlp"]
    train = build_parser().parse_args(["train", "--model", "mlp", "--strategy", "multi-worker"])
    assert train.strategy == "multi-worker"
