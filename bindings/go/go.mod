module libovl.org/ovl

go 1.19
