"""Operations tooling behind the CLI: the local supervisor (`worlddoor dev`) and `doctor`."""
